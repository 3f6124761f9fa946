/*
 * NAME
 *	options.c - parse sendmail's command line as Postfix's sendmail(1)
 *	does
 * DESCRIPTION
 *	Options come first; the first word that is not an option (or the
 *	word after "--") starts the recipients.  Letters may be bundled
 *	("-ti"); an option that takes an argument takes the rest of its
 *	word or, if that is empty, the next word ("-fuser@x", "-f user@x",
 *	"-h 5", "-O a=b"): an argument is never mistaken for a recipient
 *	(ssmtp turned "-B 8BITMIME" into one).
 *
 *	Honoured: -t -i -oi -f -r -F -v -C -L -B -N -R -V -od? -oe? -b? -q
 *	-I.  Accepted and ignored, with a debug line: -Am -Ac -G -h N -m -n
 *	-s -U -e? -o? (other) -O opt=val, and -X FILE for root (its file
 *	is never written: the PHPMailer CVE-2016-10033 path).  Refused: any
 *	other letter, -bd/-bD (plume is no daemon), -X for non-root, and
 *	malformed -B, -N, -R values.
 * DIAGNOSTICS
 *	-1 with one line in err; the caller exits 64 (EX_USAGE).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "options.h"

static void
ignore(struct sm_opts *o, const char *what)
{
	if (o->nignored < sizeof(o->ignored) / sizeof(o->ignored[0]))
		o->ignored[o->nignored++] = what;
}

static int
check_notify(const char *v)
{
	char word[16];
	const char *p = v;

	if (strcasecmp(v, "never") == 0)
		return 0;
	while (*p != '\0') {
		size_t n = strcspn(p, ",");

		if (n == 0 || n >= sizeof(word))
			return -1;
		memcpy(word, p, n);
		word[n] = '\0';
		if (strcasecmp(word, "success") != 0 &&
		    strcasecmp(word, "failure") != 0 &&
		    strcasecmp(word, "delay") != 0)
			return -1;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* -V: an RFC 3461 ENVID is xtext; printable ASCII without space or '='
   is what callers pass and all we need to accept. */
static int
check_envid(const char *v)
{
	if (*v == '\0' || strlen(v) > 100)
		return -1;
	for (const char *p = v; *p != '\0'; p++)
		if (*p < 33 || *p > 126 || *p == '=' || *p == '+')
			return -1;
	return 0;
}

static int
option_o(struct sm_opts *o, const char *v, char *err, size_t errlen)
{
	switch (v[0]) {
	case 'i':
		if (v[1] == '\0') {
			o->ignore_dots = true;
			return 0;
		}
		break;
	case 'd':
		if (v[1] != '\0' && strchr("ibqd", v[1]) != NULL &&
		    v[2] == '\0') {
			/* -odd (deferred) is an old synonym of -odq */
			o->delivery = v[1] == 'd' ? 'q' : v[1];
			return 0;
		}
		snprintf(err, errlen, "-o%s: expected -odi, -odb or -odq", v);
		return -1;
	case 'e':
		if (v[1] != '\0' && strchr("mpqwe", v[1]) != NULL &&
		    v[2] == '\0') {
			o->errmode = v[1];
			return 0;
		}
		snprintf(err, errlen, "-o%s: expected -oem, -oep, -oeq, -oew "
		    "or -oee", v);
		return -1;
	}
	ignore(o, "-o");
	return 0;
}

int
sm_parse(int argc, char **argv, bool is_root, struct sm_opts *o, char *err,
    size_t errlen)
{
	int k;

	memset(o, 0, sizeof(*o));
	for (k = 1; k < argc; k++) {
		const char *a = argv[k];

		if (strcmp(a, "--") == 0) {
			k++;
			break;
		}
		if (a[0] != '-' || a[1] == '\0')
			break;
		for (size_t j = 1; a[j] != '\0'; j++) {
			char c = a[j];
			const char *v;

			switch (c) {
			case 't': o->extract = true; continue;
			case 'i': o->ignore_dots = true; continue;
			case 'v': o->verbose++; continue;
			case 'I': o->mode = SM_MODE_ALIASES; continue;
			case 'G': case 'm': case 'n': case 's': case 'U':
				ignore(o, "-G/-m/-n/-s/-U");
				continue;
			case 'q':
				o->mode = SM_MODE_QUEUE_RUN;
				o->queue_arg = a + j + 1;
				goto next_word;
			case 'A': case 'B': case 'b': case 'C': case 'e':
			case 'F': case 'f': case 'h': case 'L': case 'N':
			case 'O': case 'o': case 'R': case 'r': case 'V':
			case 'X':
				break;
			default:
				snprintf(err, errlen, "unknown option -%c", c);
				return -1;
			}
			/* an option with an argument: rest of word, or next */
			if (a[j + 1] != '\0')
				v = a + j + 1;
			else if (k + 1 < argc)
				v = argv[++k];
			else {
				snprintf(err, errlen, "option -%c needs an "
				    "argument", c);
				return -1;
			}
			switch (c) {
			case 'A':
				if (strcmp(v, "m") != 0 && strcmp(v, "c") != 0) {
					snprintf(err, errlen, "-A%s: expected "
					    "-Am or -Ac", v);
					return -1;
				}
				ignore(o, "-A");
				break;
			case 'B':
				if (strcasecmp(v, "7BIT") == 0)
					o->body_type = "7BIT";
				else if (strcasecmp(v, "8BITMIME") == 0)
					o->body_type = "8BITMIME";
				else {
					snprintf(err, errlen, "-B %s: expected "
					    "7BIT or 8BITMIME", v);
					return -1;
				}
				break;
			case 'b':
				if (v[1] != '\0')
					goto bad_mode;
				switch (v[0]) {
				case 'm': o->mode = SM_MODE_DELIVER; break;
				case 'p': o->mode = SM_MODE_PRINTQ; break;
				case 's': o->mode = SM_MODE_SMTP; break;
				case 'v': o->mode = SM_MODE_VERIFY; break;
				case 'i': o->mode = SM_MODE_ALIASES; break;
				case 'd': case 'D':
					snprintf(err, errlen, "-b%s: plume is "
					    "not a listening daemon", v);
					return -1;
				default:
				bad_mode:
					snprintf(err, errlen, "unknown mode "
					    "-b%s", v);
					return -1;
				}
				break;
			case 'C': o->config = v; break;
			case 'e':
				if (strchr("mpqwe", v[0]) == NULL || v[1]) {
					snprintf(err, errlen, "-e%s: expected "
					    "-em, -ep, -eq, -ew or -ee", v);
					return -1;
				}
				o->errmode = v[0];
				break;
			case 'F': o->fullname = v; break;
			case 'f': case 'r': o->sender = v; break;
			case 'h': ignore(o, "-h"); break;
			case 'L': o->log_tag = v; break;
			case 'N':
				if (check_notify(v) == -1) {
					snprintf(err, errlen, "-N %s: expected "
					    "never, or success,failure,delay",
					    v);
					return -1;
				}
				o->notify = v;
				break;
			case 'O': ignore(o, "-O"); break;
			case 'o':
				if (option_o(o, v, err, errlen) == -1)
					return -1;
				break;
			case 'R':
				if (strcasecmp(v, "full") == 0)
					o->ret = "FULL";
				else if (strcasecmp(v, "hdrs") == 0)
					o->ret = "HDRS";
				else {
					snprintf(err, errlen, "-R %s: expected "
					    "full or hdrs", v);
					return -1;
				}
				break;
			case 'V':
				if (check_envid(v) == -1) {
					snprintf(err, errlen, "-V: the envelope "
					    "id must be printable ASCII "
					    "without spaces, '+' or '='");
					return -1;
				}
				o->envid = v;
				break;
			case 'X':
				if (!is_root) {
					snprintf(err, errlen, "-X (traffic log "
					    "file) is refused for non-root "
					    "callers");
					return -1;
				}
				o->xfile = true;
				ignore(o, "-X");
				break;
			}
			goto next_word;
		}
next_word:
		;
	}
	o->rcpts = argv + k;
	o->nrcpts = (size_t)(argc - k);
	return 0;
}
