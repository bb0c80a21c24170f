/* SPDX-License-Identifier: MIT */
/*
 * Writing names from a trace into JSON strings and XML text.
 *
 * Function, file and thread names come from the traced program's files
 * (or a saved trace from anywhere): any byte may occur.  Both writers
 * keep valid UTF-8 as it is and write every invalid byte as U+FFFD, so the
 * output always parses.
 */
#ifndef TATTACH_CONSUMER_EXPORT_TEXT_ESCAPE_H
#define TATTACH_CONSUMER_EXPORT_TEXT_ESCAPE_H

#include <stdio.h>

/* @s as the inside of a JSON string (no quotes added). */
void tread_put_json(FILE *f, const char *s);

/* @s as XML character data or attribute value (quotes escaped). */
void tread_put_xml(FILE *f, const char *s);

#endif /* TATTACH_CONSUMER_EXPORT_TEXT_ESCAPE_H */
