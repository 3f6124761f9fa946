/*
 * NAME
 *	jsonl.c - a small, strict reader of one JSON object per line
 * SYNOPSIS
 *	struct jsonl_obj o;
 *	if (jsonl_parse(line, &o, &error) == 0)
 *		qid = jsonl_str(&o, "queue_id");
 * DESCRIPTION
 *	The delivery log (plugins/logfile, plugins/common/evjson.c) is one
 *	flat JSON object per line, with one nested object ("notes").  The
 *	core links no JSON library, and plume log / plume stats read a
 *	million lines, so this reader parses a line in place: strings are
 *	unescaped where they stand (an escape is never shorter than what
 *	it stands for), members go into a fixed array, nothing is
 *	allocated.  A line is read whole or refused whole.
 *
 *	Read: objects (nested up to JSONL_MAX_DEPTH), strings (every
 *	escape, surrogate pairs; raw bytes must be valid UTF-8), numbers
 *	(the JSON grammar; the integer part is kept), true, false, null.
 *	Refused: arrays (evjson.c writes none), \u0000 (values are C
 *	strings), control characters, lone surrogates, more than
 *	JSONL_MAX_MEMBERS members, anything after the object.  Duplicate
 *	keys are not looked for: jsonl_find() returns the first.
 *
 *	jsonl_put_string() is the matching writer of one string.
 * DIAGNOSTICS
 *	jsonl_parse() returns -1 and a static message; the line is then
 *	partly unescaped and must not be used.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonl.h"
#include "utf8.h"
#include "util.h"

struct jp {
	char		*p;
	struct jsonl_obj *o;
	const char	*error;
};

static void
skip_ws(struct jp *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' ||
	    *j->p == '\r')
		j->p++;
}

static int
hex4(const char *p, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		int c = (unsigned char)p[i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		*v = *v << 4 | (unsigned)d;
	}
	return 0;
}

static char *
put_utf8(char *d, unsigned cp)
{
	if (cp < 0x80)
		*d++ = (char)cp;
	else if (cp < 0x800) {
		*d++ = (char)(0xc0 | cp >> 6);
		*d++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*d++ = (char)(0xe0 | cp >> 12);
		*d++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*d++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*d++ = (char)(0xf0 | cp >> 18);
		*d++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*d++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*d++ = (char)(0x80 | (cp & 0x3f));
	}
	return d;
}

/* A string at j->p ('"'), unescaped in place: the result starts where
   the opening quote stood and its NUL lands at most on the closing
   quote, so what follows is untouched. */
static const char *
parse_string(struct jp *j)
{
	char *start = j->p, *d = j->p, *s = j->p + 1;

	for (;;) {
		unsigned char c = (unsigned char)*s;
		unsigned cp, lo;
		size_t n;

		if (c == '"')
			break;
		if (c == '\0') {
			j->error = "unterminated string";
			return NULL;
		}
		if (c < 0x20) {
			j->error = "control character in a string";
			return NULL;
		}
		if (c != '\\') {
			if ((n = utf8_seq((const unsigned char *)s)) == 0) {
				j->error = "invalid UTF-8 in a string";
				return NULL;
			}
			memmove(d, s, n);
			d += n;
			s += n;
			continue;
		}
		switch (s[1]) {
		case '"': *d++ = '"'; break;
		case '\\': *d++ = '\\'; break;
		case '/': *d++ = '/'; break;
		case 'b': *d++ = '\b'; break;
		case 'f': *d++ = '\f'; break;
		case 'n': *d++ = '\n'; break;
		case 'r': *d++ = '\r'; break;
		case 't': *d++ = '\t'; break;
		case 'u':
			if (hex4(s + 2, &cp) == -1) {
				j->error = "bad \\u escape";
				return NULL;
			}
			if (cp == 0) {
				j->error = "\\u0000 in a string";
				return NULL;
			}
			if (cp >= 0xdc00 && cp <= 0xdfff) {
				j->error = "lone low surrogate";
				return NULL;
			}
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (s[6] != '\\' || s[7] != 'u' ||
				    hex4(s + 8, &lo) == -1 || lo < 0xdc00 ||
				    lo > 0xdfff) {
					j->error = "lone high surrogate";
					return NULL;
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
				s += 6;
			}
			d = put_utf8(d, cp);
			s += 4;
			break;
		default:
			j->error = "bad escape in a string";
			return NULL;
		}
		s += 2;
	}
	*d = '\0';
	j->p = s + 1;
	return start;
}

static int
parse_number(struct jp *j, long long *num)
{
	char *s = j->p, *end;

	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else {
		j->error = "bad value";
		return -1;
	}
	errno = 0;
	*num = strtoll(j->p, &end, 10);
	if (errno != 0 || end != s) {
		j->error = "number out of range";
		return -1;
	}
	if (*s == '.') {
		if (*++s < '0' || *s > '9') {
			j->error = "bad number";
			return -1;
		}
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (*s < '0' || *s > '9') {
			j->error = "bad number";
			return -1;
		}
		while (*s >= '0' && *s <= '9')
			s++;
	}
	j->p = s;
	return 0;
}

static int parse_object(struct jp *, int parent, int depth);

static int
parse_value(struct jp *j, struct jsonl_member *m, int self, int depth)
{
	static const struct { const char *w; enum jsonl_type t; } lits[] = {
		{ "true", JSONL_TRUE }, { "false", JSONL_FALSE },
		{ "null", JSONL_NULL },
	};

	switch (*j->p) {
	case '"':
		m->type = JSONL_STRING;
		return (m->str = parse_string(j)) == NULL ? -1 : 0;
	case '{':
		m->type = JSONL_OBJECT;
		return parse_object(j, self, depth + 1);
	case '[':
		j->error = "arrays are not read";
		return -1;
	}
	for (size_t i = 0; i < sizeof(lits) / sizeof(lits[0]); i++) {
		size_t n = strlen(lits[i].w);

		if (strncmp(j->p, lits[i].w, n) == 0) {
			m->type = lits[i].t;
			j->p += n;
			return 0;
		}
	}
	m->type = JSONL_NUMBER;
	return parse_number(j, &m->num);
}

static int
parse_object(struct jp *j, int parent, int depth)
{
	if (depth > JSONL_MAX_DEPTH) {
		j->error = "objects nested too deep";
		return -1;
	}
	if (*j->p != '{') {
		j->error = "not an object";
		return -1;
	}
	j->p++;
	skip_ws(j);
	if (*j->p == '}') {
		j->p++;
		return 0;
	}
	for (;;) {
		struct jsonl_member *m;
		int self;

		if (j->o->n == JSONL_MAX_MEMBERS) {
			j->error = "too many members";
			return -1;
		}
		self = (int)j->o->n++;
		m = &j->o->m[self];
		memset(m, 0, sizeof(*m));
		m->parent = parent;
		if (*j->p != '"') {
			j->error = "expected a key";
			return -1;
		}
		if ((m->key = parse_string(j)) == NULL)
			return -1;
		skip_ws(j);
		if (*j->p != ':') {
			j->error = "expected ':'";
			return -1;
		}
		j->p++;
		skip_ws(j);
		if (parse_value(j, m, self, depth) == -1)
			return -1;
		skip_ws(j);
		if (*j->p == '}') {
			j->p++;
			return 0;
		}
		if (*j->p != ',') {
			j->error = "expected ',' or '}'";
			return -1;
		}
		j->p++;
		skip_ws(j);
	}
}

int
jsonl_parse(char *line, struct jsonl_obj *o, const char **error_r)
{
	struct jp j = { line, o, NULL };

	o->n = 0;
	skip_ws(&j);
	if (parse_object(&j, -1, 1) == -1) {
		*error_r = j.error;
		return -1;
	}
	skip_ws(&j);
	if (*j.p != '\0') {
		*error_r = "text after the object";
		return -1;
	}
	return 0;
}

int
jsonl_find(const struct jsonl_obj *o, int parent, const char *key)
{
	for (size_t i = 0; i < o->n; i++)
		if (o->m[i].parent == parent && strcmp(o->m[i].key, key) == 0)
			return (int)i;
	return -1;
}

const char *
jsonl_str(const struct jsonl_obj *o, const char *key)
{
	int i = jsonl_find(o, -1, key);

	return i >= 0 && o->m[i].type == JSONL_STRING ? o->m[i].str : NULL;
}

long long
jsonl_num(const struct jsonl_obj *o, const char *key, long long fallback)
{
	int i = jsonl_find(o, -1, key);

	return i >= 0 && o->m[i].type == JSONL_NUMBER ? o->m[i].num :
	    fallback;
}

void
jsonl_put_string(FILE *fp, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	putc('"', fp);
	while (*p != '\0') {
		size_t n = utf8_seq(p);

		if (*p == '"' || *p == '\\') {
			putc('\\', fp);
			putc(*p++, fp);
		} else if (*p < 0x20 || n == 0)
			fprintf(fp, "\\u%04x", *p++);
		else {
			fwrite(p, 1, n, fp);
			p += n;
		}
	}
	putc('"', fp);
}
