// tattach trace viewer (docs/viewer.md).  Plain JavaScript, no library:
// the page must open offline from a file:// URL, so everything it needs is
// in this one file.
//
// Model: a lane per thread, grouped per process; in a lane, one row per
// call depth.  A row's calls never overlap, so sorted by start they are
// also sorted by end, and the calls in view are found by binary search.
// Calls narrower than a pixel are merged into density blocks (shade =
// share of the block's time spent in calls), skipping over a whole pixel
// of calls with one binary search, so a frame costs about
// rows x pixels x log(calls), whatever the number of calls.
'use strict';
(function () {
	const SCRIPT_T0 = performance.now();
	const errors = [];
	let selfTestLines = null;	// the self-test's lines, once it ran
	const addError = (m) => {
		errors.push(m);
		if (selfTestLines)
			writeSelfTest();
	};
	window.addEventListener('error', (e) => addError(String(e.message || e.error || e)));
	document.addEventListener('securitypolicyviolation', (e) => addError('blocked ' + e.violatedDirective + ' ' + e.blockedURI));

	const $ = (id) => document.getElementById(id);
	const params = new URLSearchParams(location.hash.slice(1));

	const LABEL_W = 200;	// left column: thread names
	const RULER_H = 26;	// time axis
	const ROW_H = 16;	// one call depth
	const PROC_H = 20;	// process header
	const LANE_PAD = 5;
	const COUNTER_H = 44;	// a counter's line plot (<tattach/mark.h>)
	const MARK_COLOR = ['', '#1f63d6', '#1a8f4a'];	// by kind: 1 mark, 2 label
	const MIN_LABEL_W = 22;	// narrower slices get no text
	const FONT = '11px system-ui, sans-serif';
	const MIN_SPAN = 20;	// ns: the closest zoom
	const BLOCK_MAX_W = 4;	// px: widest density block
	// Density block colours by share of busy time, as the RGBA pixels
	// (little-endian words) of the colour at that opacity over white.
	const SHADES = 12;
	const onWhite = (r, g, b, a) => {
		const c = (v) => Math.round(255 + (v - 255) * a);
		return (0xff000000 | c(b) << 16 | c(g) << 8 | c(r)) >>> 0;
	};
	const shades = (r, g, b) => Array.from({ length: SHADES }, (_, i) =>
		onWhite(r, g, b, 0.45 + 0.55 * (i + 1) / SHADES));
	const WHITE = onWhite(255, 255, 255, 1);
	const BLOCK_PIX = shades(80, 92, 120), MATCH_PIX = shades(214, 110, 0);
	const NO_MATCH_PIX = onWhite(150, 150, 160, 0.25);

	let meta, funcs, lanes, items, totalH, extEnd, decodeMs = 0;
	const view = { t0: 0, t1: 1 };
	let scrollY = 0;
	let W = 0, H = 0, dpr = 1;
	let selected = null;		// { lane, ci }
	let selection = null;		// { t0, t1, lanes: Set of lane index }
	let search = { active: false, text: '', func: null, total: 0 };
	let mouse = null;		// { x, y } over the canvas
	let lastFrameMs = 0;

	const cv = $('tl');
	const ctx = cv.getContext('2d', { alpha: false });
	const tip = $('tip');

	// ------------------------------------------------------------ data
	function decode() {
		const metaEl = $('tattach-meta'), callsEl = $('tattach-calls');
		if (!metaEl || !callsEl)
			throw new Error('this page carries no trace');
		meta = JSON.parse(metaEl.textContent);
		if (meta.format !== 'tattach-viewer' || meta.version !== 1)
			throw new Error('unknown trace format ' + meta.format + ' version ' + meta.version);
		// atob skips the line breaks (forgiving base64).
		const bin = atob(callsEl.textContent);
		// The text is decoded: drop it, the page keeps only typed arrays.
		metaEl.remove();
		callsEl.remove();
		funcs = meta.funcs.map((f) => ({ name: f[0], file: f[1], line: f[2], module: f[3] }));
		let p = 0;
		lanes = meta.threads.map((th, ti) => {
			const n = th.calls, from = p, cols = {};
			for (const name of meta.columns) {
				// Columns the viewer does not know are read and kept: the
				// format grows by columns (docs/viewer.md).
				const a = name === 'start' || name === 'dur' ? new Float64Array(n) : new Uint32Array(n);
				for (let i = 0; i < n; i++) {
					let b = bin.charCodeAt(p++);
					if (b < 128) {
						a[i] = b;
						continue;
					}
					let v = b & 127, m = 128;
					do {
						b = bin.charCodeAt(p++);
						v += (b & 127) * m;
						m *= 128;
					} while (b >= 128);
					a[i] = v;
				}
				cols[name] = a;
			}
			if (p - from !== th.bytes || p > bin.length)
				throw new Error('thread ' + th.tid + ': ' + (p - from) + ' bytes of calls, the page says ' + th.bytes);
			const st = cols.start;
			for (let i = 0, t = 0; i < n; i++) {
				t += st[i];
				st[i] = t;
			}
			return makeLane(th, ti, cols);
		});
		if (p !== bin.length)
			throw new Error('calls data: ' + (bin.length - p) + ' bytes left over');
	}

	function makeLane(th, ti, cols) {
		const n = th.calls, start = cols.start, dur = cols.dur, depth = cols.depth;
		const self = new Float64Array(n), parent = new Int32Array(n);
		const stack = [];
		let nrows = 0;
		for (let i = 0; i < n; i++) {
			const d = depth[i];
			const pi = d > 0 ? stack[d - 1] : undefined;
			parent[i] = pi === undefined ? -1 : pi;
			self[i] += dur[i];
			if (pi !== undefined)
				self[pi] -= dur[i];
			stack[d] = i;
			if (d + 1 > nrows)
				nrows = d + 1;
		}
		const counts = new Int32Array(nrows);
		for (let i = 0; i < n; i++)
			counts[depth[i]]++;
		const rows = [];
		for (let d = 0; d < nrows; d++) {
			const c = counts[d];
			rows.push({ idx: new Int32Array(c), s: new Float64Array(c), e: new Float64Array(c),
				    cum: new Float64Array(c + 1), mcum: null, fill: 0 });
		}
		for (let i = 0; i < n; i++) {
			const r = rows[depth[i]], k = r.fill++;
			r.idx[k] = i;
			r.s[k] = start[i];
			r.e[k] = start[i] + dur[i];
			r.cum[k + 1] = r.cum[k] + dur[i];
		}
		return { i: ti, tid: th.tid, name: th.name, proc: th.proc, n, start, dur, self, parent,
			 func: cols.func, depth, flags: cols.flags || null, args: cols.args || null,
			 ret: cols.ret || null, rows, lost: th.lost || [], marks: th.marks || [],
			 y: 0, h: 0 };
	}

	function layout() {
		items = [];
		let y = 0;
		meta.procs.forEach((proc, pi) => {
			items.push({ kind: 'proc', proc, y, h: PROC_H });
			y += PROC_H;
			for (const lane of lanes) {
				if (lane.proc !== pi)
					continue;
				lane.y = y;
				lane.h = Math.max(1, lane.rows.length) * ROW_H + 2 * LANE_PAD;
				items.push({ kind: 'lane', lane, y, h: lane.h });
				y += lane.h;
			}
			// <tattach/mark.h> counters of this process, under its threads
			for (const c of counters) {
				if (c.proc !== pi)
					continue;
				items.push({ kind: 'counter', counter: c, y, h: COUNTER_H });
				y += COUNTER_H;
			}
		});
		totalH = y;
		extEnd = 1;
		for (const lane of lanes) {
			for (const r of lane.rows)
				if (r.e.length && r.e[r.e.length - 1] > extEnd)
					extEnd = r.e[r.e.length - 1];
			for (const l of lane.lost)
				extEnd = Math.max(extEnd, l[0]);
			for (const m of lane.marks)
				extEnd = Math.max(extEnd, m[0]);
		}
		for (const c of counters)
			if (c.points.length)
				extEnd = Math.max(extEnd, c.points[c.points.length - 1][0]);
	}

	// <tattach/mark.h> counters: { proc, name, points: [[t, v]...], min, max }
	let counters = [];
	function makeCounters() {
		counters = (meta.counters || []).map((c) => {
			let min = Infinity, max = -Infinity;
			for (const p of c.points) {
				min = Math.min(min, p[1]);
				max = Math.max(max, p[1]);
			}
			return { proc: c.proc, name: meta.strings[c.name - 1], points: c.points, min, max };
		});
	}

	// Interactions: one thread letting another go on (a release that
	// ended a wait), { from: lane, fromAt, fromDepth, to: lane, toAt,
	// toDepth, kind, object, waited }, drawn as arrows over the lanes.
	let flows = [], flowsDrawn = 0;
	function makeFlows() {
		flows = (meta.flows || []).map((f) => ({
			from: lanes[f[0]], fromAt: f[1], fromDepth: f[2], to: lanes[f[3]], toAt: f[4],
			toDepth: f[5], kind: f[6], object: f[7], waited: f[8] }));
	}
	const FLOW_COLORS = { mutex: '#8e44ad', rwlock: '#8e44ad', cond: '#c0392b', semaphore: '#d35400' };
	const flowY = (lane, depth) => RULER_H + lane.y - scrollY + LANE_PAD + depth * ROW_H + ROW_H / 2;
	function drawFlows() {
		flowsDrawn = 0;
		ctx.lineWidth = 1.5;
		for (const f of flows) {
			const x0 = xOf(f.fromAt), x1 = xOf(f.toAt);
			if (Math.max(x0, x1) < LABEL_W || Math.min(x0, x1) > W)
				continue;
			const y0 = flowY(f.from, f.fromDepth), y1 = flowY(f.to, f.toDepth);
			if (Math.max(y0, y1) < RULER_H || Math.min(y0, y1) > H)
				continue;
			const c = FLOW_COLORS[f.kind] || '#555';
			ctx.strokeStyle = c;
			ctx.fillStyle = c;
			ctx.beginPath();
			ctx.moveTo(x0, y0);
			ctx.lineTo(x1, y1);
			ctx.stroke();
			// the head, at the waiter
			const a = Math.atan2(y1 - y0, x1 - x0);
			ctx.beginPath();
			ctx.moveTo(x1, y1);
			ctx.lineTo(x1 - 8 * Math.cos(a - 0.4), y1 - 8 * Math.sin(a - 0.4));
			ctx.lineTo(x1 - 8 * Math.cos(a + 0.4), y1 - 8 * Math.sin(a + 0.4));
			ctx.fill();
			flowsDrawn++;
		}
	}
	// The flows that ended (or started) in call @ci of @lane.
	function flowsOf(lane, ci, end) {
		const t0 = lane.start[ci], t1 = t0 + lane.dur[ci], d = lane.depth[ci];
		return flows.filter((f) => end ? f.to === lane && f.toDepth === d && f.toAt >= t0 && f.toAt <= t1 :
			f.from === lane && f.fromDepth === d && f.fromAt >= t0 && f.fromAt <= t1);
	}

	// --------------------------------------------------------- colours
	let colors, dimColors, nameW;
	function makeColors() {
		colors = [];
		dimColors = [];
		nameW = new Float64Array(funcs.length).fill(-1);
		for (const f of funcs) {
			let h = 2166136261;
			for (let i = 0; i < f.name.length; i++)
				h = Math.imul(h ^ f.name.charCodeAt(i), 16777619);
			h >>>= 0;
			const hue = h % 360, light = 62 + (h >>> 9) % 12;
			colors.push('hsl(' + hue + ',58%,' + light + '%)');
			dimColors.push('hsl(' + hue + ',10%,90%)');
		}
	}

	// ----------------------------------------------------------- units
	function fmtDur(ns) {
		const a = Math.abs(ns);
		const fix = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
		if (a < 1e3)
			return (Number.isInteger(ns) ? ns : ns.toFixed(1)) + ' ns';
		if (a < 1e6)
			return fix(ns / 1e3) + ' us';
		if (a < 1e9)
			return fix(ns / 1e6) + ' ms';
		return fix(ns / 1e9) + ' s';
	}

	// A time since the start, to @res ns: in the largest unit that keeps
	// it under 1000 (so "20.005 ms", not "20005 us"), with the decimals
	// @res needs.
	function fmtAt(t, res, mag) {
		const a = Math.max(Math.abs(t), mag || 0);
		const u = a >= 1e9 ? [1e9, 's'] : a >= 1e6 ? [1e6, 'ms'] : a >= 1e3 ? [1e3, 'us'] : [1, 'ns'];
		const digits = Math.max(0, Math.ceil(Math.log10(u[0] / res) - 1e-9));
		return (t / u[0]).toFixed(Math.min(digits, 9)) + ' ' + u[1];
	}
	// A tick label: one unit along the ruler, the decimals of the step.
	function fmtTick(t, step) {
		return fmtAt(t, step, Math.max(Math.abs(view.t0), Math.abs(view.t1)));
	}

	function wallClock(relNs) {
		const t0 = meta.t0;
		const sec = Number(t0.slice(0, -9) || '0'), frac = Number(t0.slice(-9));
		const ns = frac + relNs;
		const s = sec + Math.floor(ns / 1e9), rest = ns - Math.floor(ns / 1e9) * 1e9;
		const d = new Date(s * 1000).toISOString().slice(0, 19).replace('T', ' ');
		return d + '.' + String(Math.floor(rest)).padStart(9, '0') + ' UTC';
	}

	// "PID", or "PID:N" for a program the pid ran before an exec (its
	// kept ring's image N), told from the pid's current program.
	function procPid(p) {
		return String(p.pid || '') + (p.image ? ':' + p.image : '');
	}

	// ---------------------------------------------------------- search
	// first k with a[k] >= v (a sorted), within [lo, hi)
	function lowerBound(a, v, lo, hi) {
		while (lo < hi) {
			const m = (lo + hi) >>> 1;
			if (a[m] < v)
				lo = m + 1;
			else
				hi = m;
		}
		return lo;
	}
	// first k with a[k] > v
	function upperBound(a, v, lo, hi) {
		while (lo < hi) {
			const m = (lo + hi) >>> 1;
			if (a[m] <= v)
				lo = m + 1;
			else
				hi = m;
		}
		return lo;
	}

	// ------------------------------------------------------------ view
	const trackW = () => Math.max(1, W - LABEL_W);
	const xOf = (t) => LABEL_W + (t - view.t0) * trackW() / (view.t1 - view.t0);
	const tOf = (x) => view.t0 + (x - LABEL_W) * (view.t1 - view.t0) / trackW();

	function clampView() {
		let span = view.t1 - view.t0;
		const maxSpan = extEnd * 1.5;
		if (span < MIN_SPAN || span > maxSpan) {
			const mid = (view.t0 + view.t1) / 2;
			span = Math.min(Math.max(span, MIN_SPAN), maxSpan);
			view.t0 = mid - span / 2;
			view.t1 = mid + span / 2;
		}
		// keep some of the trace in view
		const lo = -0.9 * span, hi = extEnd - 0.1 * span;
		if (view.t0 < lo) {
			view.t0 = lo;
			view.t1 = lo + span;
		} else if (view.t0 > hi) {
			view.t0 = hi;
			view.t1 = hi + span;
		}
	}
	function clampScroll() {
		const max = Math.max(0, totalH - (H - RULER_H));
		scrollY = Math.min(Math.max(0, scrollY), max);
	}
	function resetView() {
		const pad = extEnd * 0.01;
		view.t0 = -pad;
		view.t1 = extEnd + pad;
		clampView();
	}
	function zoomAt(x, factor) {
		const t = tOf(x);
		view.t0 = t - (t - view.t0) * factor;
		view.t1 = t + (view.t1 - t) * factor;
		clampView();
	}
	function panBy(ns) {
		view.t0 += ns;
		view.t1 += ns;
		clampView();
	}

	function resize() {
		const r = cv.getBoundingClientRect();
		dpr = window.devicePixelRatio || 1;
		W = r.width;
		H = r.height;
		cv.width = Math.max(1, Math.round(W * dpr));
		cv.height = Math.max(1, Math.round(H * dpr));
		ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
		clampScroll();
		draw();
	}

	// ------------------------------------------------------------ draw
	let drawQueued = false;
	function requestDraw() {
		if (!drawQueued) {
			drawQueued = true;
			requestAnimationFrame(draw);
		}
	}

	function newStats() {
		return lanes.map(() => ({ drawn: 0, merged: 0, hl: 0 }));
	}

	// Two passes: first every visible row is walked, density blocks go
	// straight into a pixel buffer and wide slices into a list; then the
	// buffer is put on the canvas and the slices, labels and the rest are
	// drawn over it.  Thousands of tiny rectangles cost the browser far
	// more as drawing commands than as pixels written here.
	let img = null, pix = null, scan = null, pixRows = 0;
	const slices = [];	// lane index, call, x0, x1, y; per frame
	function draw() {
		drawQueued = false;
		const t = performance.now();
		const stats = newStats();
		if (!img || img.width !== cv.width || img.height !== cv.height) {
			img = ctx.createImageData(cv.width, cv.height);
			pix = new Uint32Array(img.data.buffer);
			scan = new Uint32Array(cv.width).fill(WHITE);
			pixRows = 0;
		}
		if (pixRows) {		// blocks of the last frame
			pix.fill(WHITE);
			pixRows = 0;
		}
		slices.length = 0;
		for (const it of items) {
			const y = RULER_H + it.y - scrollY;
			if (it.kind !== 'lane' || y > H || y + it.h < RULER_H)
				continue;
			for (let d = 0; d < it.lane.rows.length; d++) {
				const ry = y + LANE_PAD + d * ROW_H;
				if (ry <= H && ry + ROW_H >= RULER_H)
					walkRow(it.lane, it.lane.rows[d], ry, stats[it.lane.i], true);
			}
		}
		if (pixRows) {
			ctx.putImageData(img, 0, 0);
		} else {		// no block: no pixels to copy
			ctx.fillStyle = '#fff';
			ctx.fillRect(0, 0, W, H);
		}
		ctx.font = FONT;
		ctx.textBaseline = 'middle';
		ctx.save();
		ctx.beginPath();
		ctx.rect(0, RULER_H, W, H - RULER_H);
		ctx.clip();
		for (let i = 0; i < slices.length; i += 5)
			paintSlice(lanes[slices[i]], slices[i + 1], slices[i + 2], slices[i + 3], slices[i + 4]);
		for (const it of items) {
			const y = RULER_H + it.y - scrollY;
			if (y > H || y + it.h < RULER_H)
				continue;
			if (it.kind === 'proc')
				drawProc(it.proc, y);
			else if (it.kind === 'counter')
				drawCounter(it.counter, y);
			else
				drawLane(it.lane, y);
		}
		drawFlows();
		drawSelection();
		drawScrollbar();
		ctx.restore();
		drawRuler();
		lastFrameMs = performance.now() - t;
		return stats;
	}

	function drawProc(p, y) {
		ctx.fillStyle = '#e4e7ee';
		ctx.fillRect(0, y, W, PROC_H);
		ctx.fillStyle = '#223';
		ctx.font = 'bold ' + FONT;
		let s = 'process ' + procPid(p) + ' ' + p.comm;
		if (p.exe)
			s += '  \u2014  ' + p.exe;
		if (p.host)
			s += '  on ' + p.host;
		ctx.fillText(s, 6, y + PROC_H / 2);
		ctx.font = FONT;
	}

	// A counter as a step line (a value holds until the next point), scaled
	// between its least and greatest value; the last value and the range
	// in the left column.
	function drawCounter(c, y) {
		const top = y + 6, h = COUNTER_H - 12, span = c.max - c.min || 1;
		const yOf = (v) => top + h - (v - c.min) * h / span;
		ctx.save();
		ctx.beginPath();
		ctx.rect(LABEL_W, y, W - LABEL_W, COUNTER_H);
		ctx.clip();
		ctx.strokeStyle = '#b0471a';
		ctx.fillStyle = 'rgba(176,71,26,0.12)';
		ctx.lineWidth = 1.5;
		ctx.beginPath();
		let prevY = null;
		for (const p of c.points) {
			const x = Math.max(LABEL_W - 1, Math.min(W + 1, xOf(p[0]))), py = yOf(p[1]);
			if (prevY === null)
				ctx.moveTo(x, py);
			else
				ctx.lineTo(x, prevY);
			ctx.lineTo(x, py);
			prevY = py;
		}
		if (prevY !== null)
			ctx.lineTo(W + 1, prevY);
		ctx.stroke();
		ctx.restore();
		ctx.fillStyle = '#fbf6f2';
		ctx.fillRect(0, y, LABEL_W, COUNTER_H);
		ctx.fillStyle = '#222';
		ctx.fillText('counter ' + c.name, 8, y + LANE_PAD + ROW_H / 2);
		ctx.fillStyle = '#777';
		if (c.points.length)
			ctx.fillText(c.min + ' .. ' + c.max, 8, y + LANE_PAD + ROW_H * 1.5);
		ctx.strokeStyle = '#ddd';
		ctx.lineWidth = 1;
		ctx.beginPath();
		ctx.moveTo(0, y + COUNTER_H - 0.5);
		ctx.lineTo(W, y + COUNTER_H - 0.5);
		ctx.stroke();
	}

	// <tattach/mark.h> marks and labels: a line across the lane, and the
	// text at its top where it fits before the next one.
	function drawMarks(lane, y) {
		const ms = lane.marks;
		for (let i = 0; i < ms.length; i++) {
			const x = xOf(ms[i][0]);
			if (x < LABEL_W - 200 || x > W)
				continue;
			ctx.fillStyle = MARK_COLOR[ms[i][1]] || '#555';
			if (x >= LABEL_W)
				ctx.fillRect(Math.round(x), y, 1, lane.h);
			const text = meta.strings[ms[i][2] - 1] || '';
			const room = (i + 1 < ms.length ? xOf(ms[i + 1][0]) : W) - x - 6;
			if (x >= LABEL_W && room > 8) {
				ctx.font = (ms[i][1] === 2 ? 'bold ' : '') + FONT;
				let s = text;
				while (s.length > 1 && ctx.measureText(s).width > room)
					s = s.slice(0, -1);
				if (s !== text)
					s = s.slice(0, -1) + '\u2026';
				if (ctx.measureText(s).width <= room)
					ctx.fillText(s, x + 3, y + 7);
				ctx.font = FONT;
			}
		}
	}

	// A lane's marks, label column and borders (its calls are drawn by
	// draw()).
	function drawLane(lane, y) {
		drawMarks(lane, y);
		ctx.fillStyle = '#d33';
		for (const l of lane.lost) {
			const x = xOf(l[0]);
			if (x >= LABEL_W && x <= W) {
				ctx.beginPath();
				ctx.moveTo(x - 4, y);
				ctx.lineTo(x + 4, y);
				ctx.lineTo(x, y + 6);
				ctx.fill();
			}
		}
		// left column
		ctx.fillStyle = '#f6f6f8';
		ctx.fillRect(0, y, LABEL_W, lane.h);
		ctx.fillStyle = '#222';
		ctx.fillText(lane.tid + (lane.name ? ' ' + lane.name : ''), 8, y + LANE_PAD + ROW_H / 2);
		ctx.fillStyle = '#777';
		let sub = lane.n.toLocaleString('en') + ' calls';
		if (lane.lost.length)
			sub += ', ' + lane.lost.reduce((a, l) => a + l[1], 0).toLocaleString('en') + ' events lost';
		if (lane.rows.length > 1 || lane.n === 0)
			ctx.fillText(sub, 8, y + LANE_PAD + ROW_H * 1.5);
		ctx.strokeStyle = '#ddd';
		ctx.lineWidth = 1;
		ctx.beginPath();
		ctx.moveTo(0, y + lane.h - 0.5);
		ctx.lineTo(W, y + lane.h - 0.5);
		ctx.moveTo(LABEL_W - 0.5, y);
		ctx.lineTo(LABEL_W - 0.5, y + lane.h);
		ctx.stroke();
	}

	// Walks the calls of one row that are in view: wide ones are drawn as
	// slices, runs of sub-pixel ones as density blocks.  With paint false
	// it only counts (the self-test uses the same walk as the screen).
	function walkRow(lane, row, y, st, paint) {
		const s = row.s, e = row.e, n = s.length;
		const v0 = view.t0, sc = trackW() / (view.t1 - view.t0);
		const kEnd = upperBound(s, view.t1, 0, n);	// calls starting in view
		let k = lowerBound(e, v0, 0, kEnd);		// ... and ending in it
		let bFrom = -1, bx0 = 0, bx1 = 0;
		let sx0 = Infinity, sx1 = -1;	// the part of the scanline written
		const flush = (to) => {
			if (bFrom < 0)
				return;
			const m = row.mcum ? row.mcum[to] - row.mcum[bFrom] : 0;
			st.merged += to - bFrom;
			st.hl += m;
			if (paint) {
				const x0 = Math.max(bx0, LABEL_W), x1 = Math.min(Math.max(bx1, bx0 + 1), W);
				const busy = (row.cum[to] - row.cum[bFrom]) * sc / Math.max(1, x1 - x0);
				// sqrt: a block of short calls stays visible
				const level = Math.min(SHADES - 1, Math.floor(Math.sqrt(busy) * SHADES));
				const X0 = Math.round(x0 * dpr), X1 = Math.max(X0 + 1, Math.round(x1 * dpr));
				const c = search.active ? (m ? MATCH_PIX[level] : NO_MATCH_PIX) : BLOCK_PIX[level];
				for (let x = X0; x < X1; x++)	// a few pixels: faster than fill()
					scan[x] = c;
				if (X0 < sx0)
					sx0 = X0;
				if (X1 > sx1)
					sx1 = X1;
			}
			bFrom = -1;
		};
		while (k < kEnd) {
			const x0 = LABEL_W + (s[k] - v0) * sc, x1 = LABEL_W + (e[k] - v0) * sc;
			if (x1 - x0 >= 1) {
				flush(k);
				const ci = row.idx[k];
				st.drawn++;
				if (search.active && search.func[lane.func[ci]])
					st.hl++;
				if (paint)
					slices.push(lane.i, ci, x0, x1, y);
				k++;
				continue;
			}
			const px = Math.floor(x0);
			// a gap of a pixel ends a block; so does its width, so
			// the shade follows the density along the row
			if (bFrom >= 0 && (px > bx1 + 1 || px - bx0 >= BLOCK_MAX_W))
				flush(k);
			if (bFrom < 0) {
				bFrom = k;
				bx0 = px;
			}
			// Every call starting in this pixel joins the block in one
			// step; only the last of them can reach past the pixel.
			let j = lowerBound(s, v0 + (px + 1 - LABEL_W) / sc, k + 1, kEnd);
			if (j - 1 > k && (e[j - 1] - s[j - 1]) * sc >= 1)
				j--;
			bx1 = LABEL_W + (e[j - 1] - v0) * sc;
			k = j;
		}
		flush(k);
		if (paint && sx1 > sx0)
			copyScanline(y, sx0, sx1);
	}

	// The row's blocks, written in one device-pixel line, into the pixel
	// rows of the depth row (below the ruler only), then cleared.
	function copyScanline(y, x0, x1) {
		const w = cv.width, y0 = Math.max(Math.round(y * dpr), Math.round(RULER_H * dpr));
		const y1 = Math.min(Math.round((y + ROW_H - 1) * dpr), cv.height);
		const line = scan.subarray(x0, x1);
		for (let r = y0; r < y1; r++)
			pix.set(line, r * w + x0);
		pixRows += y1 - y0;
		scan.fill(WHITE, x0, x1);
	}

	function paintSlice(lane, ci, x0, x1, y) {
		const f = lane.func[ci];
		const cx0 = Math.max(x0, LABEL_W), cx1 = Math.min(x1, W), w = cx1 - cx0;
		const hit = search.active && search.func[f];
		ctx.fillStyle = search.active && !hit ? dimColors[f] : colors[f];
		ctx.fillRect(cx0, y, w, ROW_H - 1);
		if (hit || (selected && selected.lane === lane && selected.ci === ci)) {
			ctx.strokeStyle = hit && !(selected && selected.ci === ci && selected.lane === lane) ? '#b35000' : '#000';
			ctx.lineWidth = 1.5;
			ctx.strokeRect(cx0 + 0.75, y + 0.75, Math.max(0, w - 1.5), ROW_H - 2.5);
		}
		if (w < MIN_LABEL_W)
			return;
		const name = funcs[f].name;
		let tw = nameW[f];
		if (tw < 0)
			tw = nameW[f] = ctx.measureText(name).width;
		const room = w - 6;
		let text = name;
		if (tw > room) {
			const chars = Math.floor(room / (tw / name.length)) - 1;
			if (chars < 2)
				return;
			text = name.slice(0, chars) + '\u2026';
		}
		ctx.fillStyle = search.active && !hit ? '#999' : '#111';
		ctx.fillText(text, cx0 + 3, y + ROW_H / 2);
	}

	function niceStep(minNs) {
		const p = Math.pow(10, Math.floor(Math.log10(minNs)));
		for (const m of [1, 2, 5, 10])
			if (m * p >= minNs)
				return m * p;
		return 10 * p;
	}

	function drawRuler() {
		ctx.fillStyle = '#f3f3f5';
		ctx.fillRect(0, 0, W, RULER_H);
		ctx.strokeStyle = '#bbb';
		ctx.beginPath();
		ctx.moveTo(0, RULER_H - 0.5);
		ctx.lineTo(W, RULER_H - 0.5);
		ctx.stroke();
		const span = view.t1 - view.t0;
		const step = niceStep(span * 90 / trackW());	// a label every 90 px or more
		ctx.fillStyle = '#333';
		ctx.strokeStyle = '#999';
		ctx.beginPath();
		for (let t = Math.ceil(view.t0 / step) * step; t <= view.t1; t += step) {
			const x = Math.round(xOf(t)) + 0.5;
			ctx.moveTo(x, RULER_H - 8);
			ctx.lineTo(x, RULER_H);
			ctx.fillText(fmtTick(t, step), x + 3, RULER_H / 2 - 2);
		}
		ctx.stroke();
		ctx.fillStyle = '#f3f3f5';
		ctx.fillRect(0, 0, LABEL_W, RULER_H);
		ctx.fillStyle = '#555';
		ctx.fillText('view: ' + fmtDur(span), 8, RULER_H / 2);
		if (selection) {
			const x0 = Math.max(LABEL_W, xOf(selection.t0)), x1 = Math.min(W, xOf(selection.t1));
			if (x1 > x0) {
				ctx.fillStyle = 'rgba(40,110,220,0.25)';
				ctx.fillRect(x0, 0, x1 - x0, RULER_H);
				// the range's width, on a background over the tick labels
				const label = fmtDur(selection.t1 - selection.t0), lw = ctx.measureText(label).width + 8;
				const lx = Math.max(LABEL_W, Math.min((x0 + x1 - lw) / 2, W - lw));
				ctx.fillStyle = '#dbe6f7';
				ctx.fillRect(lx, 2, lw, RULER_H - 4);
				ctx.fillStyle = '#124';
				ctx.fillText(label, lx + 4, RULER_H / 2);
			}
		}
	}

	function drawSelection() {
		if (!selection)
			return;
		const x0 = Math.max(LABEL_W, xOf(selection.t0)), x1 = Math.min(W, xOf(selection.t1));
		if (x1 <= x0)
			return;
		ctx.fillStyle = 'rgba(40,110,220,0.14)';
		for (const lane of lanes)
			if (selection.lanes.has(lane.i))
				ctx.fillRect(x0, RULER_H + lane.y - scrollY, x1 - x0, lane.h);
		ctx.strokeStyle = 'rgba(40,110,220,0.8)';
		ctx.beginPath();
		ctx.moveTo(Math.round(x0) + 0.5, RULER_H);
		ctx.lineTo(Math.round(x0) + 0.5, H);
		ctx.moveTo(Math.round(x1) - 0.5, RULER_H);
		ctx.lineTo(Math.round(x1) - 0.5, H);
		ctx.stroke();
	}

	function drawScrollbar() {
		const visible = H - RULER_H;
		if (totalH <= visible)
			return;
		const h = Math.max(20, visible * visible / totalH);
		const y = RULER_H + (visible - h) * scrollY / (totalH - visible);
		ctx.fillStyle = 'rgba(0,0,0,0.25)';
		ctx.fillRect(W - 6, y, 4, h);
	}

	// --------------------------------------------------------- hit test
	function laneAt(y) {
		const cy = y - RULER_H + scrollY;
		for (const lane of lanes)
			if (cy >= lane.y && cy < lane.y + lane.h)
				return { lane, d: Math.floor((cy - lane.y - LANE_PAD) / ROW_H) };
		return null;
	}

	// The call under (x, y): the one containing the time, else the nearest
	// within 2 px.  { lane, ci, many } (many: calls within 1 px, when the
	// pointer is on a density block).
	function hit(x, y) {
		if (y < RULER_H || x < LABEL_W)
			return null;
		const at = laneAt(y);
		if (!at || at.d < 0 || at.d >= at.lane.rows.length)
			return null;
		const row = at.lane.rows[at.d], px = (view.t1 - view.t0) / trackW(), t = tOf(x);
		const n = row.s.length;
		let k = lowerBound(row.e, t, 0, n);
		if (!(k < n && row.s[k] <= t)) {
			const a = lowerBound(row.e, t - 2 * px, 0, n);
			if (!(a < n && row.s[a] <= t + 2 * px))
				return null;
			k = a;
		}
		const many = upperBound(row.s, t + px, 0, n) - lowerBound(row.e, t - px, 0, n);
		return { lane: at.lane, ci: row.idx[k], many: (row.e[k] - row.s[k]) / px < 1 ? many : 1 };
	}

	// ----------------------------------------------------------- panel
	const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
	function showPanel(html) {
		$('panelbody').innerHTML = html;
		$('panel').hidden = false;
		resize();
	}
	function hidePanel() {
		if (!$('panel').hidden) {
			$('panel').hidden = true;
			resize();
		}
	}

	function details(lane, ci) {
		const f = funcs[lane.func[ci]], p = meta.procs[lane.proc] || {};
		const rows = [['function', f.name], ['duration', fmtDur(lane.dur[ci])],
			['self time', fmtDur(lane.self[ci])],
			['start', '+' + fmtAt(lane.start[ci], 1) + '  (' + wallClock(lane.start[ci]) + ')'],
			['source', f.file ? f.file + (f.line ? ':' + f.line : '') : 'unknown']];
		if (f.module)
			rows.push(['module', f.module]);
		rows.push(['thread', lane.tid + (lane.name ? ' ' + lane.name : '')],
			['process', procPid(p) + ' ' + (p.comm || '')], ['depth', String(lane.depth[ci])]);
		if (lane.parent[ci] >= 0)
			rows.push(['called by', funcs[lane.func[lane.parent[ci]]].name]);
		if (lane.args && lane.args[ci])
			rows.push(['arguments', meta.strings[lane.args[ci] - 1]]);
		if (lane.ret && lane.ret[ci])
			rows.push(['return value', meta.strings[lane.ret[ci] - 1]]);
		for (const f of flowsOf(lane, ci, true))
			rows.push(['woken by', 'thread ' + f.from.tid + (f.from.name ? ' ' + f.from.name : '') +
				   ' (' + f.kind + ' ' + f.object + ') after waiting ' + fmtDur(f.waited)]);
		for (const f of flowsOf(lane, ci, false))
			rows.push(['let go', 'thread ' + f.to.tid + (f.to.name ? ' ' + f.to.name : '') +
				   ' (' + f.kind + ' ' + f.object + '), which had waited ' + fmtDur(f.waited)]);
		const fl = lane.flags ? lane.flags[ci] : 0;
		if (fl & 1)
			rows.push(['note', 'its end was not seen (events lost or trace ended): the duration is a lower bound']);
		if (fl & 2)
			rows.push(['note', 'left by longjmp']);
		if (fl & 4)
			rows.push(['note', 'entered before tracing: it was running when tracing began, its start and duration count from there']);
		return '<table>' + rows.map((r) => '<tr><td class="k">' + esc(r[0]) + '</td><td>' + esc(r[1]) + '</td></tr>').join('') + '</table>';
	}

	// Per function: calls that overlap the range, their time inside it
	// (inclusive) and the part of it not spent in traced callees (self).
	function summarize(sel) {
		const nf = funcs.length, calls = new Float64Array(nf), incl = new Float64Array(nf), self = new Float64Array(nf);
		let total = 0;
		for (const lane of lanes) {
			if (!sel.lanes.has(lane.i))
				continue;
			for (const row of lane.rows) {
				const n = row.s.length;
				const kEnd = upperBound(row.s, sel.t1, 0, n);
				for (let k = lowerBound(row.e, sel.t0, 0, kEnd); k < kEnd; k++) {
					const ci = row.idx[k], f = lane.func[ci];
					const clip = Math.min(row.e[k], sel.t1) - Math.max(row.s[k], sel.t0);
					calls[f]++;
					incl[f] += clip;
					self[f] += clip;
					const pa = lane.parent[ci];
					if (pa >= 0)
						self[lane.func[pa]] -= clip;
					total++;
				}
			}
		}
		const list = [];
		for (let f = 0; f < nf; f++)
			if (calls[f])
				list.push({ f, calls: calls[f], incl: incl[f], self: self[f] });
		list.sort((a, b) => b.self - a.self || b.calls - a.calls);
		return { total, list };
	}

	function showSummary() {
		const sum = summarize(selection);
		const shown = sum.list.slice(0, 300);
		const res = Math.max(1, niceStep((selection.t1 - selection.t0) / 1000));
		let html = '<b>Range</b> +' + esc(fmtAt(selection.t0, res)) + ' \u2013 +' + esc(fmtAt(selection.t1, res)) +
			' (' + esc(fmtDur(selection.t1 - selection.t0)) + '), ' + selection.lanes.size + ' thread(s): ' +
			sum.total.toLocaleString('en') + ' calls, ' + sum.list.length + ' functions';
		html += '<table><tr><th>function</th><th class="n">calls</th><th class="n">self time</th>' +
			'<th class="n">time (incl.)</th><th class="n">avg (incl.)</th></tr>';
		for (const r of shown)
			html += '<tr><td>' + esc(funcs[r.f].name) + '</td><td class="n">' + r.calls.toLocaleString('en') +
				'</td><td class="n">' + fmtDur(r.self) + '</td><td class="n">' + fmtDur(r.incl) +
				'</td><td class="n">' + fmtDur(r.incl / r.calls) + '</td></tr>';
		html += '</table>';
		if (sum.list.length > shown.length)
			html += '<div class="k">(' + (sum.list.length - shown.length) + ' more functions not shown)</div>';
		html += '<div class="k">time counted inside the range only; a recursive function\u2019s inclusive time counts each level</div>';
		showPanel(html);
		return sum;
	}

	function applySearch(text) {
		const q = text.trim().toLowerCase();
		search = { active: q.length > 0, text: q, func: new Uint8Array(funcs.length), total: 0 };
		if (search.active)
			funcs.forEach((f, i) => { search.func[i] = f.name.toLowerCase().includes(q) ? 1 : 0; });
		for (const lane of lanes)
			for (const row of lane.rows) {
				if (!search.active) {
					row.mcum = null;
					continue;
				}
				const n = row.idx.length, m = row.mcum = new Int32Array(n + 1);
				for (let k = 0; k < n; k++)
					m[k + 1] = m[k] + search.func[lane.func[row.idx[k]]];
				search.total += m[n];
			}
		$('matches').textContent = search.active ? search.total.toLocaleString('en') + ' calls' : '';
		requestDraw();
	}

	// Enter in the search box: the next matching call after the selected
	// one, lane by lane, zoomed to and selected.
	function nextMatch() {
		if (!search.active || !search.total)
			return;
		const from = selected ? { l: selected.lane.i, ci: selected.ci } : { l: 0, ci: -1 };
		for (let step = 0; step <= lanes.length; step++) {
			const lane = lanes[(from.l + step) % lanes.length];
			const startCi = step === 0 ? from.ci + 1 : 0;
			for (let ci = startCi; ci < lane.n; ci++)
				if (search.func[lane.func[ci]]) {
					select(lane, ci);
					const d = Math.max(lane.dur[ci], MIN_SPAN);
					view.t0 = lane.start[ci] - d * 1.5;
					view.t1 = lane.start[ci] + d * 2.5;
					clampView();
					scrollY = lane.y + LANE_PAD + lane.depth[ci] * ROW_H - (H - RULER_H) / 2;
					clampScroll();
					requestDraw();
					return;
				}
		}
	}

	function select(lane, ci) {
		selected = { lane, ci };
		showPanel(details(lane, ci));
	}

	// ----------------------------------------------------- interaction
	let drag = null;
	const keys = new Set();
	const canvasXY = (e) => {
		const r = cv.getBoundingClientRect();
		return { x: e.clientX - r.left, y: e.clientY - r.top };
	};

	function hover() {
		const h = mouse && !drag ? hit(mouse.x, mouse.y) : null;
		if (!h) {
			tip.hidden = true;
			return;
		}
		const f = funcs[h.lane.func[h.ci]];
		tip.textContent = h.many > 1
			? h.many.toLocaleString('en') + ' calls in this pixel, e.g. ' + f.name + '  ' + fmtDur(h.lane.dur[h.ci]) + '\n(zoom in to see them)'
			: f.name + '  ' + fmtDur(h.lane.dur[h.ci]);
		tip.hidden = false;
		const tw = tip.offsetWidth;
		tip.style.left = Math.min(mouse.x + 12, W - tw - 4) + 'px';
		tip.style.top = (mouse.y + 16) + 'px';
	}

	function onWheel(e) {
		e.preventDefault();
		const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? H : 1;
		const dx = e.deltaX * unit, dy = e.deltaY * unit;
		const p = canvasXY(e);
		if (e.shiftKey) {
			scrollY += dy || dx;
			clampScroll();
		} else if (Math.abs(dx) > Math.abs(dy)) {
			panBy(dx * (view.t1 - view.t0) / trackW());
		} else {
			zoomAt(Math.max(p.x, LABEL_W), Math.exp(dy * 0.002));
		}
		requestDraw();
	}

	function onDown(e) {
		if (e.button !== 0)
			return;
		const p = canvasXY(e);
		drag = { x: p.x, y: p.y, t0: view.t0, t1: view.t1, scrollY, moved: false, select: e.shiftKey && p.x >= LABEL_W };
		cv.classList.add('dragging');
		e.preventDefault();
	}

	function onMove(e) {
		const p = canvasXY(e);
		mouse = p.x >= 0 && p.y >= 0 && p.x < W && p.y < H ? p : null;
		if (drag) {
			const dx = p.x - drag.x, dy = p.y - drag.y;
			if (Math.abs(dx) + Math.abs(dy) > 3)
				drag.moved = true;
			if (drag.select) {
				const ta = tOf(drag.x), tb = tOf(p.x);
				const ya = Math.min(drag.y, p.y), yb = Math.max(drag.y, p.y);
				const set = new Set();
				for (const lane of lanes) {
					const top = RULER_H + lane.y - scrollY;
					if (top < yb && top + lane.h > ya)
						set.add(lane.i);
				}
				selection = { t0: Math.min(ta, tb), t1: Math.max(ta, tb), lanes: set };
			} else if (drag.moved) {
				const dt = dx * (drag.t1 - drag.t0) / trackW();
				view.t0 = drag.t0 - dt;
				view.t1 = drag.t1 - dt;
				clampView();
				scrollY = drag.scrollY - dy;
				clampScroll();
			}
			requestDraw();
		}
		hover();
	}

	function onUp(e) {
		if (!drag)
			return;
		const d = drag;
		drag = null;
		cv.classList.remove('dragging');
		if (d.select && d.moved && selection && selection.lanes.size) {
			showSummary();
		} else if (!d.moved) {
			const p = canvasXY(e), h = hit(p.x, p.y);
			if (h)
				select(h.lane, h.ci);
			else {
				selected = null;
				hidePanel();
			}
		}
		requestDraw();
	}

	// W/S zoom, A/D pan (as in Perfetto); one step at once, then steps at
	// frame rate while the key is held.
	function keyStep(k, frames) {
		const span = view.t1 - view.t0;
		const ax = mouse && mouse.x >= LABEL_W ? mouse.x : LABEL_W + trackW() / 2;
		if (k === 'w')
			zoomAt(ax, Math.pow(0.9, frames));
		else if (k === 's')
			zoomAt(ax, Math.pow(1 / 0.9, frames));
		else if (k === 'a')
			panBy(-span * 0.05 * frames);
		else if (k === 'd')
			panBy(span * 0.05 * frames);
	}
	let keyLoopLast = 0;
	function keyLoop(ts) {
		if (!keys.size)
			return;
		const frames = keyLoopLast ? Math.min(4, (ts - keyLoopLast) / 16.7) : 1;
		keyLoopLast = ts;
		for (const k of keys)
			keyStep(k, frames);
		draw();
		requestAnimationFrame(keyLoop);
	}

	function onKeyDown(e) {
		const searchBox = $('search');
		if (e.target === searchBox) {
			if (e.key === 'Enter')
				nextMatch();
			else if (e.key === 'Escape')
				searchBox.blur();
			return;
		}
		if (e.ctrlKey || e.metaKey || e.altKey)
			return;
		const k = e.key.length === 1 ? e.key.toLowerCase() : e.key;
		if (k === 'w' || k === 'a' || k === 's' || k === 'd') {
			if (!keys.has(k)) {
				keys.add(k);
				keyStep(k, 1);
				draw();
				if (keys.size === 1) {
					keyLoopLast = 0;
					requestAnimationFrame(keyLoop);
				}
			}
		} else if (k === '0' || k === 'Home') {
			resetView();
		} else if (k === 'Escape') {
			selection = null;
			selected = null;
			hidePanel();
		} else if (k === '/') {
			searchBox.focus();
		} else if (k === 'ArrowDown' || k === 'ArrowUp' || k === 'PageDown' || k === 'PageUp') {
			const dist = k.startsWith('Page') ? H - RULER_H - 40 : 40;
			scrollY += k === 'ArrowDown' || k === 'PageDown' ? dist : -dist;
			clampScroll();
		} else {
			return;
		}
		e.preventDefault();
		requestDraw();
	}

	// -------------------------------------------------------- self-test
	// #selftest: drives the viewer through its own event handlers and
	// writes what it saw into <pre id=selftest>, one fact per line, for
	// tests/integration/test_html_browser.c and tests/bench/run.sh.
	function countAll() {
		const stats = newStats();
		for (const lane of lanes)
			for (const row of lane.rows)
				walkRow(lane, row, 0, stats[lane.i], false);
		return stats;
	}

	function fire(type, x, y, extra) {
		const r = cv.getBoundingClientRect();
		const init = Object.assign({ clientX: r.left + x, clientY: r.top + y, bubbles: true, cancelable: true, button: 0 }, extra || {});
		const ev = type === 'wheel' ? new WheelEvent(type, init) : new MouseEvent(type, init);
		(type === 'mousemove' || type === 'mouseup' ? window : cv).dispatchEvent(ev);
	}
	function key(k) {
		window.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true }));
		window.dispatchEvent(new KeyboardEvent('keyup', { key: k, bubbles: true }));
	}
	// Frame times with the drawing rasterised: reading a pixel makes the
	// browser carry out the recorded drawing now, not at some later frame.
	function frameTimes(nframes, move) {
		const ts = [];
		for (let i = 0; i < nframes; i++) {
			move(i);
			const t = performance.now();
			draw();
			ctx.getImageData(0, 0, 1, 1);
			ts.push(performance.now() - t);
		}
		ts.sort((a, b) => a - b);
		return ts[ts.length >> 1].toFixed(2) + ' ' + ts[ts.length - 1].toFixed(2);
	}

	function selfTest(out) {
		const laneMid = (lane) => RULER_H + lane.y - scrollY + LANE_PAD + ROW_H / 2;
		const full = countAll();
		out.push('lanes ' + lanes.length);
		for (const lane of lanes) {
			const s = full[lane.i];
			out.push('lane ' + lane.i + ' tid ' + lane.tid + ' calls ' + lane.n + ' rows ' + lane.rows.length +
				 ' drawn ' + s.drawn + ' merged ' + s.merged);
		}
		// <tattach/mark.h>: each lane's marks and labels, each counter's
		// values, in time order, and whether each was drawn (its line is
		// inside the track)
		for (const lane of lanes)
			for (const m of lane.marks)
				out.push((m[1] === 2 ? 'label' : 'mark') + ' lane ' + lane.i + ' at ' + m[0] + ' ' +
					 meta.strings[m[2] - 1] + (xOf(m[0]) >= LABEL_W && xOf(m[0]) <= W ? '' : ' (off view)'));
		for (const c of counters)
			out.push('counter ' + c.name + ' proc ' + c.proc + ' values ' + c.points.map((p) => p[1]).join(',') +
				 ' range ' + c.min + ' ' + c.max + ' track ' + (items.some((it) => it.counter === c) ? 'yes' : 'no'));
		// interactions: each flow, and how many arrows the whole view draws
		for (const f of flows)
			out.push('flow ' + f.kind + ' ' + f.object + ' from lane ' + f.from.i + ' at ' + f.fromAt +
				 ' to lane ' + f.to.i + ' at ' + f.toAt + ' waited ' + f.waited);
		if (flows.length) {
			draw();
			out.push('flows drawn ' + flowsDrawn + ' of ' + flows.length);
		}
		// calls running when tracing began (flag 4), per lane that has any
		for (const lane of lanes) {
			let early = 0;
			for (let ci = 0; lane.flags && ci < lane.n; ci++)
				early += (lane.flags[ci] & 4) ? 1 : 0;
			if (early)
				out.push('entered before tracing lane ' + lane.i + ' calls ' + early);
		}
		// the names under a time, read through the hit test
		if (params.has('at')) {
			const t = Number(params.get('at'));
			for (const lane of lanes) {
				const names = [];
				for (let d = 0; d < lane.rows.length; d++) {
					const h = hit(xOf(t), laneMid(lane) + d * ROW_H);
					if (h && lane.start[h.ci] <= t && t <= lane.start[h.ci] + lane.dur[h.ci])
						names.push(funcs[lane.func[h.ci]].name);
				}
				if (names.length)
					out.push('at ' + t + ' lane ' + lane.i + ': ' + names.join(' > '));
			}
			// click on the outermost call there
			const lane0 = lanes[0];
			fire('mousedown', xOf(t), laneMid(lane0));
			fire('mouseup', xOf(t), laneMid(lane0));
			if (selected) {
				const ci = selected.ci, name = funcs[lane0.func[ci]].name;
				out.push('click ' + name + ' dur ' + lane0.dur[ci] + ' self ' + lane0.self[ci] +
					 ' panel ' + ($('panelbody').textContent.includes(name) ? 'shows-name' : 'no-name'));
				// the panel as "key=value" cells
				out.push('details ' + [...$('panelbody').querySelectorAll('tr')]
					.map((tr) => [...tr.cells].map((c) => c.textContent).join('=')).join(' | '));
			}
			// the tooltip over each depth there
			for (let d = 0; d < lane0.rows.length; d++) {
				fire('mousemove', xOf(t), laneMid(lane0) + d * ROW_H);
				out.push('hover ' + d + ': ' + (tip.hidden ? '(none)' : tip.textContent.replace(/\n/g, ' / ')));
			}
			fire('mousemove', 1, 1);
			out.push('hover away: ' + (tip.hidden ? 'hidden' : 'shown'));
		}
		for (const text of params.getAll('search')) {
			const box = $('search');
			box.value = text;
			box.dispatchEvent(new Event('input', { bubbles: true }));
			const st = countAll();
			out.push('search ' + box.value + ' matches ' + search.total + ' highlighted ' +
				 st.reduce((a, s) => a + s.hl, 0) + ' label ' + $('matches').textContent.replace(/ /g, '_'));
			// Enter: the next matching calls, selected and zoomed to
			selected = null;
			for (let i = 0; i < 2 && search.total; i++) {
				box.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
				if (selected)
					out.push('next ' + funcs[selected.lane.func[selected.ci]].name + ' lane ' + selected.lane.i +
						 ' start ' + selected.lane.start[selected.ci] + ' in_view ' +
						 (view.t0 <= selected.lane.start[selected.ci] && selected.lane.start[selected.ci] <= view.t1));
			}
			selected = null;
			hidePanel();
			resetView();
			box.value = '';
			box.dispatchEvent(new Event('input', { bubbles: true }));
		}
		// shift+drag from the first lane to the second: a range summary
		if (lanes.length > 1) {
			const ta = extEnd * 0.2, tb = extEnd * 0.65;
			fire('mousedown', xOf(ta), laneMid(lanes[0]), { shiftKey: true });
			fire('mousemove', xOf(tb), laneMid(lanes[1]), { shiftKey: true });
			fire('mouseup', xOf(tb), laneMid(lanes[1]), { shiftKey: true });
			if (selection) {
				const sum = summarize(selection);
				out.push('range ' + selection.t0 + ' ' + selection.t1 + ' lanes ' + [...selection.lanes].join(',') +
					 ' calls ' + sum.total + ' panel ' + ($('panelbody').textContent.includes('Range') ? 'shown' : 'missing'));
			}
			selection = null;
			hidePanel();
		}
		// a range over everything, every lane
		selection = { t0: 0, t1: extEnd, lanes: new Set(lanes.map((l) => l.i)) };
		const sum = showSummary();
		out.push('summary calls ' + sum.total + ' functions ' + sum.list.length);
		for (const r of sum.list)
			out.push('sum ' + funcs[r.f].name + ' calls ' + r.calls + ' self ' + r.self + ' incl ' + r.incl);
		selection = null;
		hidePanel();

		// zoom with the wheel, a quarter into the track, on the first lane
		const zx = LABEL_W + trackW() / 4, zy = laneMid(lanes[0]);
		const before = { span: view.t1 - view.t0, anchor: tOf(zx) };
		fire('wheel', zx, zy, { deltaY: -500, deltaMode: 0 });
		out.push('zoom span_before ' + before.span + ' span_after ' + (view.t1 - view.t0) +
			 ' anchor_before ' + before.anchor + ' anchor_after ' + tOf(zx));
		const vis = countAll();
		out.push('view ' + view.t0 + ' ' + view.t1);
		for (const lane of lanes)
			out.push('visible lane ' + lane.i + ' ' + (vis[lane.i].drawn + vis[lane.i].merged));
		// drag 100 px to the left: the view moves right by 100 px of time
		let t0b = view.t0;
		const pxNs = (view.t1 - view.t0) / trackW();
		fire('mousedown', zx, zy);
		fire('mousemove', zx - 50, zy);
		fire('mousemove', zx - 100, zy);
		fire('mouseup', zx - 100, zy);
		out.push('drag px 100 shift ' + (view.t0 - t0b) + ' expected ' + 100 * pxNs);
		t0b = view.t0;
		let span = view.t1 - view.t0;
		key('d');
		out.push('key d shift ' + (view.t0 - t0b) + ' span ' + span);
		span = view.t1 - view.t0;
		key('w');
		out.push('key w span_before ' + span + ' span_after ' + (view.t1 - view.t0));
		span = view.t1 - view.t0;
		key('s');
		out.push('key s span_before ' + span + ' span_after ' + (view.t1 - view.t0));

		// frame times: whole trace panning by 1 %, then 1/1000 of it
		resetView();
		const whole = view.t1 - view.t0;
		out.push('frame_whole_ms ' + frameTimes(21, () => panBy(whole * 0.01)));
		{
			const ts = [];
			for (let i = 0; i < 21; i++) {
				const a = performance.now();
				countAll();
				ts.push(performance.now() - a);
			}
			ts.sort((a, b) => a - b);
			out.push('walk_whole_ms ' + ts[10].toFixed(2) + ' ' + ts[20].toFixed(2));
		}
		resetView();
		zoomAt(LABEL_W + trackW() / 2, 0.001);
		out.push('frame_zoom1000_ms ' + frameTimes(21, () => panBy((view.t1 - view.t0) * 0.01)));
		resetView();
		draw();
	}

	// #view=T0,T1 (ns since the start), #search=TEXT, #range=T0,T1: open
	// the page on that view, search or range summary (a link to a spot).
	function fromHash() {
		const pair = (k) => {
			const v = (params.get(k) || '').split(',').map(Number);
			return v.length === 2 && v.every(Number.isFinite) && v[1] > v[0] ? v : null;
		};
		const v = pair('view'), r = pair('range');
		if (v) {
			view.t0 = v[0];
			view.t1 = v[1];
			clampView();
		}
		if (params.has('search')) {
			$('search').value = params.get('search');
			applySearch($('search').value);
		}
		if (r) {
			selection = { t0: r[0], t1: r[1], lanes: new Set(lanes.map((l) => l.i)) };
			showSummary();
		}
		draw();
	}

	// ------------------------------------------------------------ start
	function start() {
		const out = [];
		try {
			decode();
			decodeMs = performance.now() - SCRIPT_T0;
			makeColors();
			makeCounters();
			makeFlows();
			layout();
			resetView();
			$('search').addEventListener('input', (e) => applySearch(e.target.value));
			applySearch('');
			const ncalls = lanes.reduce((a, l) => a + l.n, 0);
			$('info').textContent = meta.procs.length + ' process(es), ' + lanes.length + ' thread(s), ' +
				ncalls.toLocaleString('en') + ' calls over ' + fmtDur(extEnd) + ', from ' + wallClock(0);
			$('title').textContent = 'tattach: ' + meta.procs.map((p) => p.comm + ' ' + procPid(p)).join(', ');
			document.title = $('title').textContent;
			resize();	// the first full draw
			const loadMs = performance.now(), scriptMs = loadMs - SCRIPT_T0;
			out.push('load_ms ' + loadMs.toFixed(1) + ' script_ms ' + scriptMs.toFixed(1) + ' decode_ms ' + decodeMs.toFixed(1) +
				 ' first_frame_ms ' + lastFrameMs.toFixed(1) + ' calls ' + ncalls);
			cv.addEventListener('wheel', onWheel, { passive: false });
			cv.addEventListener('mousedown', onDown);
			window.addEventListener('mousemove', onMove);
			window.addEventListener('mouseup', onUp);
			cv.addEventListener('mouseleave', () => { mouse = null; tip.hidden = true; });
			window.addEventListener('keydown', onKeyDown);
			window.addEventListener('keyup', (e) => keys.delete(e.key.length === 1 ? e.key.toLowerCase() : e.key));
			window.addEventListener('blur', () => keys.clear());
			window.addEventListener('resize', resize);
			$('close').addEventListener('click', () => { selection = null; selected = null; hidePanel(); requestDraw(); });
			if (params.has('selftest'))
				selfTest(out);
			else
				fromHash();
		} catch (err) {
			errors.push(String(err && err.message ? err.message : err));
			document.body.insertAdjacentHTML('afterbegin', '<p style="color:#b00;padding:8px">cannot show this trace: ' +
				esc(err && err.message ? err.message : err) + '</p>');
		}
		if (params.has('selftest')) {
			selfTestLines = out;
			writeSelfTest();
		}
	}

	// The self-test's report; written again when an error comes later
	// (a refused request is reported after the script has run).
	function writeSelfTest() {
		const lines = selfTestLines.concat(['errors ' + errors.length], errors.map((m) => 'error ' + m), ['done']);
		$('selftest').textContent = lines.join('\n') + '\n';
	}
	start();
})();
