// SPDX-License-Identifier: MIT
/*
 * --export flamegraph: the call-path tree (calltree.h) as an interactive
 * SVG, in one file with its own script and no external reference, so it
 * opens in any browser, offline.
 *
 * One frame per call path: its width is the path's total time, the root
 * ("all") at the bottom, callees above their callers, siblings by name.
 * Hovering a frame shows its name, time and share of the whole below the
 * graph; clicking one zooms to it (its callers stretch to full width,
 * everything else hides); "Reset zoom" goes back.
 *
 * Each frame is a <g class="f"> with the numbers a program can check:
 * data-n (name), data-t (total ns), data-s (self ns), data-d (depth),
 * data-x, data-w (position and width as fractions of the root).  Frames
 * narrower than 0.1 pixel are left out, with their callees; the root's
 * data-hidden-ns says how much self time that left out.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer/atomic_file.h"
#include "consumer/export/calltree.h"
#include "consumer/export/export.h"
#include "consumer/export/text_escape.h"

#define SVG_WIDTH   1200
#define SVG_PAD     10
#define FRAME_H     16
#define TOP         36	/* title and buttons */
#define BOTTOM      28	/* the details line */
#define MIN_PX      0.1
#define CHAR_PX     7	/* 12px monospace, roughly */

static const char script[] =
"<script type=\"text/ecmascript\"><![CDATA[\n"
"'use strict';\n"
"var svg = document.documentElement;\n"
"var W = +svg.getAttribute('data-width'), PAD = +svg.getAttribute('data-pad');\n"
"var CH = +svg.getAttribute('data-char');\n"
"var frames = Array.prototype.slice.call(document.querySelectorAll('g.f'));\n"
"var details = document.getElementById('details');\n"
"var unzoom = document.getElementById('unzoom');\n"
"function num(g, a) { return +g.getAttribute(a); }\n"
"function place(g, x, w, shown) {\n"
"  var r = g.querySelector('rect'), t = g.querySelector('text');\n"
"  g.style.display = shown ? '' : 'none';\n"
"  if (!shown) return;\n"
"  var px = PAD + x * (W - 2 * PAD), pw = w * (W - 2 * PAD);\n"
"  r.setAttribute('x', px.toFixed(2)); r.setAttribute('width', pw.toFixed(2));\n"
"  t.setAttribute('x', (px + 3).toFixed(2));\n"
"  var name = g.getAttribute('data-n'), max = Math.floor((pw - 6) / CH);\n"
"  t.textContent = max < 3 ? '' : name.length <= max ? name : name.substr(0, max - 2) + '..';\n"
"}\n"
"function zoom(z) {\n"
"  var zx = num(z, 'data-x'), zw = num(z, 'data-w'), zd = num(z, 'data-d'), e = 1e-9;\n"
"  frames.forEach(function (g) {\n"
"    var x = num(g, 'data-x'), w = num(g, 'data-w'), d = num(g, 'data-d');\n"
"    if (d >= zd && x >= zx - e && x + w <= zx + zw + e)\n"
"      place(g, (x - zx) / zw, w / zw, true);\n"
"    else if (d < zd && x <= zx + e && x + w >= zx + zw - e)\n"
"      place(g, 0, 1, true);\n"
"    else\n"
"      place(g, 0, 0, false);\n"
"  });\n"
"  unzoom.style.display = '';\n"
"}\n"
"function reset() {\n"
"  frames.forEach(function (g) { place(g, num(g, 'data-x'), num(g, 'data-w'), true); });\n"
"  unzoom.style.display = 'none';\n"
"}\n"
"frames.forEach(function (g) {\n"
"  g.addEventListener('click', function () { zoom(g); });\n"
"  g.addEventListener('mouseover', function () {\n"
"    details.textContent = g.querySelector('title').textContent;\n"
"  });\n"
"  g.addEventListener('mouseout', function () { details.textContent = ' '; });\n"
"});\n"
"unzoom.addEventListener('click', reset);\n"
"]]></script>\n";

/* A warm colour from the name, the same for the same name. */
static void colour(const char *name, unsigned *r, unsigned *g, unsigned *b)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *s = (const unsigned char *)name; *s; s++)
		h = (h ^ *s) * 16777619u;
	*r = 205 + h % 50;
	*g = 80 + (h >> 8) % 150;
	*b = (h >> 16) % 60;
}

static void put_time(FILE *f, uint64_t ns)
{
	if (ns >= 1000000000ull)
		fprintf(f, "%.3f s", ns / 1e9);
	else if (ns >= 1000000)
		fprintf(f, "%.3f ms", ns / 1e6);
	else if (ns >= 1000)
		fprintf(f, "%.3f us", ns / 1e3);
	else
		fprintf(f, "%" PRIu64 " ns", ns);
}

struct layout {
	const struct tread_ctree *t;
	double   *x;		/* [n]: left edge, fraction of the root */
	bool     *shown;	/* [n] */
	uint32_t  max_depth;
	uint64_t  hidden_ns;
	double    scale;	/* pixels per root fraction */
};

/* Place every node: children side by side from their parent's left edge. */
static void lay_out(struct layout *l)
{
	const struct tread_ctree *t = l->t;
	double root = t->nodes[0].total_ns ? (double)t->nodes[0].total_ns : 1;

	l->x[0] = 0;
	l->shown[0] = true;
	/* Nodes come after their parents: one pass in index order would not
	 * know siblings' order, so walk each parent's sorted child list. */
	for (size_t p = 0; p < t->n; p++) {
		double x = l->x[p];

		for (uint32_t c = t->nodes[p].first_child; c != TREAD_CTREE_NONE;
		     c = t->nodes[c].next_sibling) {
			double w = t->nodes[c].total_ns / root;

			l->x[c] = x;
			x += w;
			l->shown[c] = l->shown[p] && w * l->scale >= MIN_PX;
			if (l->shown[c] && t->nodes[c].depth > l->max_depth)
				l->max_depth = t->nodes[c].depth;
			if (l->shown[p] && !l->shown[c])
				l->hidden_ns += t->nodes[c].total_ns;
		}
	}
}

static void put_frame(FILE *f, const struct layout *l, uint32_t n, int height)
{
	const struct tread_ctree_node *node = &l->t->nodes[n];
	double root = l->t->nodes[0].total_ns ? (double)l->t->nodes[0].total_ns : 1;
	/* the root is the whole width, even for a trace without time */
	double w = n ? node->total_ns / root : 1.0, px = SVG_PAD + l->x[n] * l->scale;
	double pw = w * l->scale;
	int y = height - BOTTOM - (int)(node->depth + 1) * FRAME_H;
	size_t len = strlen(node->name), max = pw > 6 ? (size_t)((pw - 6) / CHAR_PX) : 0;
	unsigned r, g, b;

	colour(node->name, &r, &g, &b);
	fputs("<g class=\"f\" data-n=\"", f);
	tread_put_xml(f, node->name);
	fprintf(f, "\" data-t=\"%" PRIu64 "\" data-s=\"%" PRIu64 "\" data-d=\"%u\" "
		"data-x=\"%.12f\" data-w=\"%.12f\"><title>", node->total_ns,
		node->self_ns, node->depth, l->x[n], w);
	tread_put_xml(f, node->name);
	fputs(" (", f);
	put_time(f, node->total_ns);
	fprintf(f, ", %.2f%%)</title><rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" "
		"height=\"%d\" rx=\"2\" fill=\"rgb(%u,%u,%u)\"/><text x=\"%.2f\" y=\"%d\">",
		100.0 * w, px, y, pw, FRAME_H - 1, r, g, b, px + 3, y + FRAME_H - 4);
	if (max >= 3) {
		if (len <= max) {
			tread_put_xml(f, node->name);
		} else {
			/* cut on a byte: the escaper repairs a split character */
			char *cut = strndup(node->name, max - 2);

			if (cut) {
				tread_put_xml(f, cut);
				fputs("..", f);
			}
			free(cut);
		}
	}
	fputs("</text></g>\n", f);
}

static void put_svg(FILE *f, const struct layout *l)
{
	int height = TOP + BOTTOM + (int)(l->max_depth + 1) * FRAME_H;

	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" "
		"width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" data-width=\"%d\" "
		"data-pad=\"%d\" data-char=\"%d\" data-total-ns=\"%" PRIu64 "\" "
		"data-hidden-ns=\"%" PRIu64 "\">\n", SVG_WIDTH, height, SVG_WIDTH, height,
		SVG_WIDTH, SVG_PAD, CHAR_PX, l->t->nodes[0].total_ns, l->hidden_ns);
	fprintf(f, "<style>text { font: 12px monospace; fill: #000; pointer-events: none; }\n"
		"g.f:hover rect { stroke: #000; stroke-width: 0.5; cursor: pointer; }\n"
		"#unzoom { cursor: pointer; }</style>\n"
		"<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#fdf6e8\"/>\n"
		"<text x=\"%d\" y=\"22\" style=\"font-size: 16px\" text-anchor=\"middle\">"
		"Flame graph (tread): ", SVG_WIDTH, height, SVG_WIDTH / 2);
	put_time(f, l->t->nodes[0].total_ns);
	fprintf(f, " in traced calls</text>\n"
		"<text id=\"unzoom\" x=\"%d\" y=\"22\" style=\"display: none\">Reset zoom"
		"</text>\n<text id=\"details\" x=\"%d\" y=\"%d\"> </text>\n",
		SVG_PAD, SVG_PAD, height - 10);
	for (size_t n = 0; n < l->t->n; n++)
		if (l->shown[n])
			put_frame(f, l, (uint32_t)n, height);
	fputs(script, f);
	fputs("</svg>\n", f);
}

int tread_export_flamegraph(const struct tread_xtrace *x, const char *out,
			    char *err, size_t errlen)
{
	struct tread_atomic_file af;
	struct layout l = { .scale = SVG_WIDTH - 2 * SVG_PAD };
	struct tread_ctree t;
	int ret;

	ret = tread_ctree_build(x, &t);
	if (ret) {
		snprintf(err, errlen, "out of memory");
		return ret;
	}
	l.t = &t;
	l.x = calloc(t.n, sizeof(*l.x));
	l.shown = calloc(t.n, sizeof(*l.shown));
	if (!l.x || !l.shown) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	lay_out(&l);
	ret = tread_atomic_open(&af, out, err, errlen);
	if (ret)
		goto out;
	setvbuf(af.f, NULL, _IOFBF, 1 << 20);
	put_svg(af.f, &l);
	ret = tread_atomic_commit(&af, err, errlen);
out:
	free(l.x);
	free(l.shown);
	tread_ctree_free(&t);
	return ret;
}
