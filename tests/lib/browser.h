/* SPDX-License-Identifier: MIT */
/*
 * Opening a page in a real browser (Debian's chromium, headless) for the
 * tests of the --html viewer: the page's own #selftest writes what it saw
 * into <pre id="selftest">, which this reads back from the DOM.
 */
#ifndef TATTACH_TESTS_BROWSER_H
#define TATTACH_TESTS_BROWSER_H

/* The browser: $TATTACH_CHROMIUM, else "chromium" from $PATH; NULL when
 * there is none. */
const char *browser_path(void);

/*
 * browser_selftest - load file://@page#@hash, return the text of its
 * <pre id="selftest"> (entities decoded) in a new string, or NULL with
 * the reason in @why.
 */
char *browser_selftest(const char *page, const char *hash, char *why, size_t whylen);

#endif
