/*
 * NAME
 *	import.c - plume import: print a plume.conf equivalent to an msmtp,
 *	ssmtp or dma configuration
 * SYNOPSIS
 *	plume import msmtprc [--write-secrets DIR] [FILE]
 *	plume import ssmtp [--write-secrets DIR] [FILE]
 *	plume import dma [--write-secrets DIR] [DIR]
 *
 *	int import_main(argc, argv)
 * DESCRIPTION
 *	Reads the other mailer's files (msmtp: FILE, else ~/.msmtprc, else
 *	$XDG_CONFIG_HOME/msmtp/config; ssmtp: FILE, else
 *	/etc/ssmtp/ssmtp.conf, with the revaliases file next to it; dma:
 *	DIR/dma.conf, else /etc/dma/dma.conf, and the AUTHPATH file) and
 *	prints a plume.conf on stdout: global keys, pipeline and one
 *	[smtp] section, the default route, plus an [smtp "NAME"] route
 *	with match_from for each of msmtp's other accounts and each of
 *	ssmtp's revaliases mailhubs.  Every setting that plume does not
 *	have, or handles differently, becomes a "# " comment saying so;
 *	nothing is dropped silently.
 *
 *	Decisions that are not one-to-one (plume(8), SWITCHING):
 *	- TLS.  plume always verifies certificates and never falls back
 *	  to plaintext.  msmtp's tls_certcheck off is a comment (and its
 *	  tls_fingerprint is kept, when it is SHA-256); a relay the old
 *	  mailer reached without TLS gets plume's default, STARTTLS, and a
 *	  comment: writing tls = none is the administrator's decision.
 *	- Secrets.  Nothing secret is written on stdout.  An inline
 *	  password (msmtp password, ssmtp AuthPass, dma auth.conf) becomes
 *	  password_file = /etc/plume/NAME.secret and a comment telling the
 *	  user to create that file; with --write-secrets DIR the files are
 *	  written there (mode 0600, never over an existing file) and the
 *	  config names them.  msmtp's passwordeval, run by a shell, becomes
 *	  password_command = sh -c "..." with a comment.
 *	- msmtp accounts.  msmtp picks the first account, in file order,
 *	  whose from matches the envelope sender, else the default (or the
 *	  first).  So the default is [smtp], without match_from, last in
 *	  pipeline; the others are [smtp "NAME"] routes before it, in file
 *	  order, their from as match_from when it is an address or a
 *	  pattern plume's match_from means the same by (*@d, *@*.d).  An
 *	  account without such a from (no from, another wildcard, a %U
 *	  substitution) stays out of pipeline with a comment: plume has no
 *	  -a NAME.  Global settings (domain, maildomain, aliases, ...) come
 *	  from the default account.
 *	- ssmtp revaliases.  ssmtp sent a local user's mail as an address,
 *	  through the line's mailhub.  plume has no per-user sender, so a
 *	  mailhub other than ssmtp.conf's becomes a route, [smtp "HOST"],
 *	  with its lines' addresses (and users at rewriteDomain) as
 *	  match_from and ssmtp.conf's TLS and login; a lone line for root
 *	  becomes sender_address; the other lines are comments.
 *	- dma.  AUTHPATH is looked for in DIR first (by its file name), so
 *	  that a copy of /etc/dma converts as it stands; only the auth.conf
 *	  line for the SMARTHOST is used (dma used the others only to
 *	  deliver to an MX itself).  Nothing in dma routes by sender or
 *	  recipient.  SPOOLDIR is not reused: plume keeps its own queue.
 * DIAGNOSTICS
 *	One line on stderr, "plume: ", and the exit code: 64 for a usage
 *	error, 66 when an input file cannot be read, 65 with FILE:LINE and
 *	what was expected when it cannot be parsed, 73 when a secret file
 *	cannot be written.  Nothing is printed on stdout, and no secret is
 *	written, unless the whole conversion succeeded.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include "conf.h"
#include "import.h"
#include "route.h"
#include "util.h"

/* The files are a few hundred bytes; anything larger is not one. */
#define IMPORT_FILE_MAX		(1024 * 1024)
#define SECRET_DIR		"/etc/plume"

/* One "key value" of the input, in file order. */
struct kv {
	char		*key;
	char		*value;
	unsigned	 line;
	struct kv	*next;
};

struct secret {
	char		*path;
	char		*value;		/* wiped before it is freed */
	char		*origin;	/* "FILE:LINE" */
	struct secret	*next;
};

struct imp {
	const char	*kind;
	const char	*secrets_dir;	/* --write-secrets, or NULL */
	struct buf	 glob;		/* global keys and their comments */
	struct buf	 sect;		/* the sections */
	struct secret	*secrets;
	char		 err[1024];
};

/* A file read whole, and walked line by line. */
struct text {
	const char	*path;
	char		*data;
	char		*pos;
	unsigned	 line;
};

static int	 fail_at(struct imp *, int, const char *, unsigned,
		    const char *, ...) PRINTF_LIKE(5, 6);
static void	 note(struct buf *, const char *, ...) PRINTF_LIKE(2, 3);

/* ---- helpers ------------------------------------------------------ */

static int
fail_at(struct imp *im, int code, const char *file, unsigned line,
    const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(im->err, sizeof(im->err), "%s:%u: %s", file, line,
		    msg);
	else
		snprintf(im->err, sizeof(im->err), "%s: %s", file, msg);
	return code;
}

/* A comment line. */
static void
note(struct buf *b, const char *fmt, ...)
{
	char *s;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		s = NULL;
	va_end(ap);
	if (s == NULL)
		abort();
	buf_printf(b, "# %s\n", s);
	free(s);
}

/* "key = value", quoted as the parser needs. */
static void
emit(struct buf *b, const char *key, const char *value)
{
	char *q = conf_quote_value(value);

	buf_printf(b, "%s = %s\n", key, q);
	free(q);
}

static void
kv_free(struct kv *k)
{
	while (k != NULL) {
		struct kv *next = k->next;

		/* any value may be a password (AuthPass, auth.conf) */
		secure_wipe(k->value, strlen(k->value));
		free(k->key);
		free(k->value);
		free(k);
		k = next;
	}
}

/* Set key, replacing an earlier value in place (its order stays). */
static void
kv_set(struct kv **l, const char *key, const char *value, unsigned line)
{
	struct kv **p;

	for (p = l; *p != NULL; p = &(*p)->next)
		if (strcasecmp((*p)->key, key) == 0) {
			secure_wipe((*p)->value, strlen((*p)->value));
			free((*p)->value);
			(*p)->value = xstrdup(value);
			(*p)->line = line;
			return;
		}
	*p = xcalloc(1, sizeof(**p));
	(*p)->key = xstrdup(key);
	(*p)->value = xstrdup(value);
	(*p)->line = line;
}

static const struct kv *
kv_get(const struct kv *k, const char *key)
{
	for (; k != NULL; k = k->next)
		if (strcasecmp(k->key, key) == 0)
			return k;
	return NULL;
}

static const char *
kv_value(const struct kv *k, const char *key)
{
	const struct kv *e = kv_get(k, key);

	return e != NULL ? e->value : NULL;
}

/* Drops trailing blanks in place; returns s. */
static char *
rtrim(char *s)
{
	char *e = s + strlen(s);

	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*e = '\0';
	return s;
}

static bool
in_list(const char *const *list, const char *s)
{
	for (; *list != NULL; list++)
		if (strcasecmp(*list, s) == 0)
			return true;
	return false;
}

/* Reads path whole: EX_OK, EX_NOINPUT or EX_DATAERR (with im->err). */
static int
text_open(struct imp *im, struct text *t, const char *path)
{
	struct buf b;
	char chunk[4096];
	ssize_t n;
	int fd;

	memset(t, 0, sizeof(*t));
	t->path = path;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return fail_at(im, EX_NOINPUT, path, 0, "%s",
		    strerror(errno));
	buf_init(&b);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || b.len + (size_t)n > IMPORT_FILE_MAX) {
			int e = n == -1 ? errno : EFBIG;

			close(fd);
			secure_wipe(b.data, b.len);
			buf_free(&b);
			return fail_at(im, e == EFBIG ? EX_DATAERR :
			    EX_NOINPUT, path, 0, "%s", e == EFBIG ?
			    "larger than 1 MiB (expected a config file)" :
			    strerror(e));
		}
		buf_add(&b, chunk, (size_t)n);
	}
	close(fd);
	if (b.len > 0 && memchr(b.data, '\0', b.len) != NULL) {
		secure_wipe(b.data, b.len);
		buf_free(&b);
		return fail_at(im, EX_DATAERR, path, 0, "holds NUL bytes "
		    "(expected a text config file)");
	}
	buf_addc(&b, '\0');	/* an empty file still has data */
	t->data = buf_detach(&b);
	t->pos = t->data;
	return EX_OK;
}

static void
text_close(struct text *t)
{
	if (t->data != NULL) {
		secure_wipe(t->data, strlen(t->data));
		free(t->data);
	}
	t->data = NULL;
}

/* The next line, without its line end and surrounding blanks; NULL at
   the end.  Blank lines and '#' comments are skipped. */
static char *
text_next(struct text *t)
{
	while (t->pos != NULL && *t->pos != '\0') {
		char *s = t->pos, *nl = strchr(s, '\n'), *e;

		t->pos = nl != NULL ? nl + 1 : NULL;
		if (nl != NULL)
			*nl = '\0';
		t->line++;
		e = s + strlen(s);
		while (e > s && strchr(" \t\r", e[-1]) != NULL)
			*--e = '\0';
		s += strspn(s, " \t");
		if (*s != '\0' && *s != '#')
			return s;
	}
	return NULL;
}

/* A value that will be written in the config: one line, no controls. */
static int
check_value(struct imp *im, struct text *t, const char *what,
    const char *v)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 && *p != '\t')
			return fail_at(im, EX_DATAERR, t->path, t->line,
			    "control character in %s (expected text)", what);
	return EX_OK;
}

/* Records a password; emits password_file and what to do about it. */
static void
add_secret(struct imp *im, struct buf *b, const char *name,
    const char *value, const char *file, unsigned line, const char *what)
{
	struct secret *s, **p;
	char *path;

	path = xasprintf("%s/%s.secret", value != NULL && im->secrets_dir ?
	    im->secrets_dir : SECRET_DIR, name);
	emit(b, "password_file", path);
	if (value == NULL) {
		note(b, "%s: create %s (mode 0600) holding the password",
		    what, path);
		free(path);
		return;
	}
	if (im->secrets_dir != NULL)
		note(b, "%s (%s:%u): written to %s by plume import, mode "
		    "0600", what, file, line, path);
	else
		note(b, "%s (%s:%u) is not copied here: create %s (mode "
		    "0600) holding it, or rerun with --write-secrets DIR",
		    what, file, line, path);
	s = xcalloc(1, sizeof(*s));
	s->path = path;
	s->value = xstrdup(value);
	s->origin = xasprintf("%s:%u", file, line);
	for (p = &im->secrets; *p != NULL; p = &(*p)->next)
		continue;
	*p = s;
}

static void
secrets_free(struct secret *s)
{
	while (s != NULL) {
		struct secret *next = s->next;

		secure_wipe(s->value, strlen(s->value));
		free(s->value);
		free(s->path);
		free(s->origin);
		free(s);
		s = next;
	}
}

/* Writes each secret, mode 0600, never over an existing file. */
static int
secrets_write(struct imp *im)
{
	struct secret *s;

	if (im->secrets_dir == NULL || im->secrets == NULL)
		return EX_OK;
	/* mkdir -p, each new directory mode 0700 */
	for (char *d = xstrdup(im->secrets_dir), *p = d + 1;; p++)
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdir(d, 0700) == -1 && errno != EEXIST) {
				int e = errno;

				free(d);
				return fail_at(im, EX_CANTCREAT,
				    im->secrets_dir, 0, "%s", strerror(e));
			}
			if (c == '\0') {
				free(d);
				break;
			}
			*p = c;
		}
	for (s = im->secrets; s != NULL; s = s->next) {
		int fd = open(s->path, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		int rc = 0;

		if (fd == -1)
			return fail_at(im, EX_CANTCREAT, s->path, 0, "%s%s",
			    strerror(errno), errno == EEXIST ? " (plume "
			    "import never replaces a secret file)" : "");
		if (fchmod(fd, 0600) == -1 ||
		    write_full(fd, s->value, strlen(s->value)) == -1 ||
		    write_full(fd, "\n", 1) == -1)
			rc = -1;
		if (close(fd) == -1 || rc == -1) {
			int e = errno;

			unlink(s->path);
			return fail_at(im, EX_CANTCREAT, s->path, 0, "%s",
			    strerror(e));
		}
		fprintf(stderr, "plume: wrote %s (mode 0600): the password "
		    "from %s\n", s->path, s->origin);
	}
	return EX_OK;
}

/* The TLS comment every importer needs for a relay reached in clear. */
static void
note_was_plaintext(struct buf *b, const char *tool)
{
	note(b, "%s sent this mail without TLS; plume uses STARTTLS (its "
	    "default) and never falls back to plaintext.", tool);
	note(b, "Write tls = none only for a relay on a network you trust.");
}

static void
note_no_verify(struct buf *b, const char *tool)
{
	note(b, "%s did not verify the server's certificate; plume does "
	    "(system CAs, or tls_ca_file).", tool);
	note(b, "For a self-signed certificate pin it: tls_fingerprint = "
	    "(openssl x509 -noout -fingerprint -sha256).");
}

/* ---- msmtp -------------------------------------------------------- */

struct account {
	char		*name;
	struct kv	*kv;
	unsigned	 line;
	unsigned	 nown;		/* commands of its own */
	char		*alias_of;	/* "account default : X" alone */
	struct account	*next;
};

/* Every msmtp command (msmtp(1), 1.8.x); others are an error. */
static const char *const msmtp_cmds[] = {
	"host", "port", "source_ip", "proxy_host", "proxy_port", "socket",
	"timeout", "protocol", "domain", "auth", "user", "password",
	"passwordeval", "ntlmdomain", "tls", "tls_starttls",
	"tls_trust_file", "tls_crl_file", "tls_fingerprint", "tls_key_file",
	"tls_cert_file", "tls_certcheck", "tls_priorities",
	"tls_host_override", "tls_min_dh_prime_bits", "from",
	"from_full_name", "allow_from_override", "set_from_header",
	"set_date_header", "remove_bcc_headers", "undisclosed_recipients",
	"dsn_notify", "dsn_return", "add_missing_from_header",
	"add_missing_date_header", "logfile", "logfile_time_format",
	"syslog", "aliases", "auto_from", "maildomain", "eval", NULL
};

/* Keys whose plume counterpart is global: taken from the default. */
static const char *const msmtp_global_cmds[] = {
	"domain", "maildomain", "aliases", "allow_from_override",
	"set_from_header", "logfile", "syslog", NULL
};

static void
accounts_free(struct account *a)
{
	while (a != NULL) {
		struct account *next = a->next;

		kv_free(a->kv);
		free(a->name);
		free(a->alias_of);
		free(a);
		a = next;
	}
}

static struct account *
account_find(struct account *a, const char *name)
{
	for (; a != NULL; a = a->next)
		if (strcmp(a->name, name) == 0)
			return a;
	return NULL;
}

static void
kv_copy(struct kv **dst, const struct kv *src)
{
	for (; src != NULL; src = src->next)
		kv_set(dst, src->key, src->value, src->line);
}

/* msmtp's argument: the rest of the line, or one "quoted" string with
   \" and \\ escapes. */
static int
msmtp_arg(struct imp *im, struct text *t, char *s, char **arg_r)
{
	char *w, *r;

	*arg_r = s;
	if (*s != '"')
		return EX_OK;
	for (w = s, r = s + 1; *r != '"'; r++) {
		if (*r == '\0')
			return fail_at(im, EX_DATAERR, t->path, t->line,
			    "unterminated quoted argument (expected a "
			    "closing '\"')");
		if (*r == '\\' && r[1] != '\0')
			r++;
		*w++ = *r;
	}
	if (r[1 + strspn(r + 1, " \t")] != '\0')
		return fail_at(im, EX_DATAERR, t->path, t->line, "text after "
		    "the closing quote (expected the end of the line)");
	*w = '\0';
	return EX_OK;
}

static int
msmtp_parse(struct imp *im, struct text *t, struct account **accts_r,
    struct kv **defaults_r)
{
	struct account *accts = NULL, **tail = &accts, *cur = NULL;
	struct kv *defaults = NULL;
	char *s;
	int rc = EX_OK;

	while (rc == EX_OK && (s = text_next(t)) != NULL) {
		size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz_");
		char *cmd = s, *arg;

		if (n == 0 || (s[n] != '\0' && s[n] != ' ' && s[n] != '\t')) {
			rc = fail_at(im, EX_DATAERR, t->path, t->line,
			    "expected an msmtp command (such as account, host "
			    "or port) and its argument");
			break;
		}
		arg = s + n + strspn(s + n, " \t");
		s[n] = '\0';
		if (strcmp(cmd, "defaults") == 0) {
			cur = NULL;
			continue;
		}
		if (strcmp(cmd, "account") == 0) {
			char *colon = strchr(arg, ':'), *name;
			struct account *a;

			if (colon != NULL)
				*colon = '\0';
			name = arg;
			rtrim(name);
			if (*name == '\0') {
				rc = fail_at(im, EX_DATAERR, t->path, t->line,
				    "account without a name (expected "
				    "'account NAME [: ACCOUNT,...]')");
				break;
			}
			if (account_find(accts, name) != NULL) {
				rc = fail_at(im, EX_DATAERR, t->path, t->line,
				    "account '%s' is defined twice (expected "
				    "one definition)", name);
				break;
			}
			if ((rc = check_value(im, t, "the account name",
			    name)) != EX_OK)
				break;
			a = xcalloc(1, sizeof(*a));
			a->name = xstrdup(name);
			a->line = t->line;
			*tail = a;
			tail = &a->next;
			kv_copy(&a->kv, defaults);
			for (char *p = colon ? colon + 1 : NULL, *q; p != NULL;
			    p = q) {
				struct account *parent;

				if ((q = strchr(p, ',')) != NULL)
					*q++ = '\0';
				p += strspn(p, " \t");
				rtrim(p);
				if ((parent = account_find(accts, p)) == NULL ||
				    parent == a) {
					rc = fail_at(im, EX_DATAERR, t->path,
					    t->line, "account '%s' is not "
					    "defined above (expected the name "
					    "of an earlier account)", p);
					break;
				}
				kv_copy(&a->kv, parent->kv);
				free(a->alias_of);
				a->alias_of = colon != NULL && strchr(colon + 1,
				    ',') == NULL ? xstrdup(p) : NULL;
			}
			cur = a;
			continue;
		}
		if (!in_list(msmtp_cmds, cmd)) {
			rc = fail_at(im, EX_DATAERR, t->path, t->line,
			    "unknown msmtp command '%s' (expected one of "
			    "msmtp(1)'s, such as host, port, from or auth)",
			    cmd);
			break;
		}
		if ((rc = msmtp_arg(im, t, arg, &arg)) != EX_OK ||
		    (rc = check_value(im, t, cmd, arg)) != EX_OK)
			break;
		if (cur == NULL)
			kv_set(&defaults, cmd, arg, t->line);
		else {
			kv_set(&cur->kv, cmd, arg, t->line);
			cur->nown++;
		}
	}
	*accts_r = accts;
	*defaults_r = defaults;
	return rc;
}

static bool
msmtp_on(const char *v)
{
	return v != NULL && (*v == '\0' || strcasecmp(v, "on") == 0);
}

static bool
msmtp_off(const char *v)
{
	return v != NULL && strcasecmp(v, "off") == 0;
}

/* msmtp expands ~ in file names; plume does not. */
static char *
msmtp_path(const char *v)
{
	const char *home = getenv("HOME");

	if (v[0] == '~' && (v[1] == '/' || v[1] == '\0') && home != NULL &&
	    *home != '\0')
		return xasprintf("%s%s", home, v + 1);
	return xstrdup(v);
}

/* An instance name plume accepts: [A-Za-z0-9_.-], made unique. */
static char *
instance_name(const char *name, struct buf *used)
{
	struct buf b;
	char *base, *s;

	buf_init(&b);
	for (const char *p = name; *p != '\0'; p++)
		buf_addc(&b, strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", *p) != NULL ?
		    *p : '_');
	base = buf_detach(&b);
	s = xstrdup(base);
	for (int i = 2;; i++) {
		char *key = xasprintf("\n%s\n", s);
		bool taken = used->data != NULL &&
		    strstr(used->data, key) != NULL;

		free(key);
		if (!taken)
			break;
		free(s);
		s = xasprintf("%s-%d", base, i);
	}
	buf_printf(used, "\n%s\n", s);
	free(base);
	return s;
}

/* The hex digits of a fingerprint (colons dropped), or 0 if not hex. */
static size_t
hex_digits(const char *v)
{
	size_t n = 0;

	for (; *v != '\0'; v++)
		if (strchr("0123456789abcdefABCDEF", *v) != NULL)
			n++;
		else if (*v != ':')
			return 0;
	return n;
}

/*
 * msmtp's from (1.8.16 and later) is an address or a shell pattern
 * (fnmatch(3)) that -f or --read-envelope-from must match for msmtp to
 * pick the account.  The patterns that mean the same as plume's
 * match_from ones are kept as they are: an address, *@DOMAIN and a
 * leading *. label of the domain (in fnmatch, too, "*" there matches
 * one label or several).  Anything else (other wildcards, %U-style
 * substitutions, a local part alone) is NULL: the caller says so.
 */
static const char *
msmtp_match_from(const char *v)
{
	static const char wild[] = "*?[]\\";
	const char *at = strchr(v, '@'), *dom;

	if (at == NULL || at == v || strchr(at + 1, '@') != NULL ||
	    strchr(v, '%') != NULL)
		return NULL;
	if (!(at - v == 1 && v[0] == '*') &&
	    strcspn(v, wild) < (size_t)(at - v))
		return NULL;
	dom = strncmp(at + 1, "*.", 2) == 0 ? at + 3 : at + 1;
	if (dom[strcspn(dom, wild)] != '\0')
		return NULL;
	return route_pattern_check(v) == NULL ? v : NULL;
}

/* One account into one [smtp] section; dflt: it is the default; alone:
   the only one. */
static void
msmtp_account(struct imp *im, const char *file, const struct account *a,
    const char *inst, bool dflt, bool alone)
{
	static const char *const handled[] = {
		"host", "port", "tls", "tls_starttls", "tls_certcheck",
		"tls_fingerprint", "tls_trust_file", "tls_cert_file",
		"tls_key_file", "auth", "user", "password", "passwordeval",
		"from", "timeout", "protocol", NULL
	};
	struct buf *b = &im->sect;
	const struct kv *k = a->kv;
	const char *v, *user = kv_value(k, "user"), *auth =
	    kv_value(k, "auth");
	bool tls = msmtp_on(kv_value(k, "tls"));
	bool implicit = tls && msmtp_off(kv_value(k, "tls_starttls"));
	char *secname, *p;

	if (inst == NULL)
		buf_printf(b, "\n[smtp]\n");
	else
		buf_printf(b, "\n[smtp \"%s\"]\n", inst);
	note(b, "msmtp account %s%s (%s:%u)", a->name, !dflt ? "" : alone ?
	    ", the default" : ", the default: the route of mail no "
	    "match_from takes", file, a->line);
	if (!dflt) {
		const char *pat = NULL;

		v = kv_value(k, "from");
		if (v != NULL && (pat = msmtp_match_from(v)) != NULL)
			emit(b, "match_from", pat);
		else if (v != NULL)
			note(b, "from %s: %s; write a match_from (a@d, *@d or "
			    "*@*.d) and add smtp:%s to pipeline", v,
			    strchr(v, '%') != NULL ? "msmtp's %U/%H/%C/%M "
			    "substitutions have no equivalent" : "a pattern "
			    "plume's match_from cannot express", inst);
		else
			note(b, "no from: msmtp used this account only when "
			    "asked for it (-a %s); plume has no such option, "
			    "so it is not in pipeline", a->name);
		if (pat == NULL)
			note(b, "(it can still serve as another route's "
			    "failover = smtp:%s)", inst);
	}
	emit(b, "host", kv_value(k, "host"));
	emit(b, "port", (v = kv_value(k, "port")) != NULL ? v :
	    implicit ? "465" : "25");
	if (!tls)
		note_was_plaintext(b, "msmtp");
	else
		emit(b, "tls", implicit ? "implicit" : "starttls");
	if ((v = kv_value(k, "tls_trust_file")) != NULL &&
	    strcmp(v, "system") != 0 && *v != '\0') {
		emit(b, "tls_ca_file", p = msmtp_path(v));
		free(p);
	}
	if ((v = kv_value(k, "tls_fingerprint")) != NULL) {
		if (hex_digits(v) == 64)
			emit(b, "tls_fingerprint", v);
		else
			note(b, "tls_fingerprint %s: plume pins SHA-256 "
			    "fingerprints only (openssl x509 -noout "
			    "-fingerprint -sha256 prints it)", v);
	}
	if (msmtp_off(kv_value(k, "tls_certcheck"))) {
		if (v != NULL && hex_digits(v) == 64)
			note(b, "tls_certcheck off: plume always verifies; "
			    "the pinned tls_fingerprint is checked instead.");
		else {
			note(b, "tls_certcheck off: plume never switches "
			    "certificate verification off.");
			note_no_verify(b, "msmtp");
		}
	}
	if ((v = kv_value(k, "tls_cert_file")) != NULL) {
		emit(b, "tls_cert_file", p = msmtp_path(v));
		free(p);
	}
	if ((v = kv_value(k, "tls_key_file")) != NULL) {
		emit(b, "tls_key_file", p = msmtp_path(v));
		free(p);
	}

	secname = inst == NULL ? xstrdup("smtp") : xasprintf("smtp-%s",
	    inst);
	if (msmtp_off(auth)) {
		if (user != NULL)
			note(b, "user %s: not used, msmtp had auth off", user);
	} else if (user != NULL) {
		const struct kv *pw = kv_get(k, "password");
		const struct kv *ev = kv_get(k, "passwordeval");

		emit(b, "user", user);
		if (auth != NULL && !msmtp_on(auth)) {
			char *lower = xstrdup(auth);

			for (p = lower; *p != '\0'; p++)
				*p = (char)(*p >= 'A' && *p <= 'Z' ?
				    *p - 'A' + 'a' : *p);
			emit(b, "auth", lower);
			free(lower);
		}
		if (pw != NULL) {
			add_secret(im, b, secname, pw->value, file, pw->line,
			    "msmtp's password");
			if (ev != NULL)
				note(b, "passwordeval is not used: msmtp "
				    "preferred password.");
		} else if (ev != NULL) {
			char *w = conf_quote_word(ev->value);
			char *cmd = xasprintf("sh -c %s", w);

			emit(b, "password_command", cmd);
			note(b, "msmtp ran passwordeval through a shell; plume "
			    "runs commands without one, so the shell is "
			    "explicit.");
			note(b, "Its ~ and $VARIABLES expand in plume's "
			    "environment; write the command without sh -c "
			    "when it needs neither.");
			free(cmd);
			free(w);
		} else
			add_secret(im, b, secname, NULL, file, 0,
			    "msmtp took this password from the keyring, "
			    "~/.netrc or a prompt");
	} else if (auth != NULL && !msmtp_off(auth))
		note(b, "auth %s without a user: plume logs in only when "
		    "user is set", auth);
	free(secname);

	if ((v = kv_value(k, "timeout")) != NULL && !msmtp_off(v)) {
		if (strspn(v, "0123456789") == strlen(v) && *v != '\0') {
			p = xasprintf("%ss", v);
			emit(b, "command_timeout", p);
			free(p);
		} else
			note(b, "timeout %s: not a number of seconds", v);
	}
	if ((v = kv_value(k, "protocol")) != NULL &&
	    strcasecmp(v, "smtp") != 0)
		note(b, "protocol %s: plume speaks SMTP only", v);

	/* Everything else, in file order. */
	for (; k != NULL; k = k->next) {
		if (in_list(handled, k->key))
			continue;
		if (in_list(msmtp_global_cmds, k->key)) {
			if (!dflt)
				note(b, "%s %s: a global setting in plume, "
				    "taken from the default account", k->key,
				    k->value);
			continue;
		}
		note(b, "%s %s: no equivalent in plume", k->key, k->value);
	}
}

/* a is dflt, or "account default : X" naming it. */
static bool
msmtp_is_default(const struct account *a, const struct account *dflt)
{
	return a == dflt || (a->nown == 0 && a->alias_of != NULL &&
	    strcmp(a->alias_of, dflt->name) == 0);
}

static int
import_msmtp(struct imp *im, const char *file)
{
	struct text t;
	struct account *accts = NULL, *dflt, *a;
	struct kv *defaults = NULL;
	struct buf used, pipeline;
	const char *v;
	int rc, nroutes = 0, nothers = 0;

	if ((rc = text_open(im, &t, file)) != EX_OK)
		return rc;
	rc = msmtp_parse(im, &t, &accts, &defaults);
	text_close(&t);
	buf_init(&used);
	if (rc != EX_OK)
		goto out;
	if (accts == NULL) {
		rc = fail_at(im, EX_DATAERR, file, 0, "no account (expected "
		    "'account NAME' and its host)");
		goto out;
	}
	/* "account default : X" alone makes X the default. */
	if ((dflt = account_find(accts, "default")) == NULL)
		dflt = accts;
	else if (dflt->nown == 0 && dflt->alias_of != NULL)
		dflt = account_find(accts, dflt->alias_of);
	for (a = accts; a != NULL; a = a->next)
		if (kv_value(a->kv, "host") == NULL &&
		    !(a != dflt && a->nown == 0 && a->alias_of != NULL &&
		    strcmp(a->alias_of, dflt->name) == 0)) {
			rc = fail_at(im, EX_DATAERR, file, a->line, "account "
			    "'%s' has no host (expected a host command)",
			    a->name);
			goto out;
		}

	/* The globals come from the default account. */
	if ((v = kv_value(dflt->kv, "domain")) != NULL)
		emit(&im->glob, "hostname", v);
	if ((v = kv_value(dflt->kv, "maildomain")) != NULL)
		emit(&im->glob, "domain", v);
	if ((v = kv_value(dflt->kv, "aliases")) != NULL) {
		char *p = msmtp_path(v);

		emit(&im->glob, "aliases", p);
		free(p);
	}
	if ((v = kv_value(dflt->kv, "from")) != NULL) {
		if (strchr(v, '%') != NULL)
			note(&im->glob, "from %s: msmtp's substitutions have "
			    "no equivalent; plume's default sender is the user "
			    "at domain", v);
		else if (strpbrk(v, "*?[") != NULL)
			note(&im->glob, "from %s: a pattern, not an address: "
			    "set sender_address to the address to use", v);
		else
			emit(&im->glob, "sender_address", v);
	}
	if (msmtp_off(kv_value(dflt->kv, "allow_from_override")))
		emit(&im->glob, "envelope_from", "never");
	if (msmtp_on(kv_value(dflt->kv, "set_from_header")))
		emit(&im->glob, "from_rewrite", "always");
	if ((v = kv_value(dflt->kv, "logfile")) != NULL)
		note(&im->glob, "logfile %s: plume logs to syslog and its "
		    "event log (plume log); the logfile plugin writes a file "
		    "(pipeline = smtp, logfile and a [logfile] path)", v);
	if ((v = kv_value(dflt->kv, "syslog")) != NULL && !msmtp_off(v))
		note(&im->glob, "syslog %s: plume logs to syslog (facility "
		    "mail) by default", v);

	/*
	 * Routes: msmtp took the first account, in file order, whose from
	 * matched the envelope sender, else the default.  So the others
	 * go in pipeline in file order, each with its match_from, and the
	 * default, without one, last.
	 */
	for (a = accts; a != NULL; a = a->next)
		if (!msmtp_is_default(a, dflt))
			nothers++;
	msmtp_account(im, file, dflt, NULL, true, nothers == 0);
	buf_init(&pipeline);
	for (a = accts; a != NULL; a = a->next) {
		const char *from = kv_value(a->kv, "from");
		char *inst;

		if (msmtp_is_default(a, dflt))
			continue;
		inst = instance_name(a->name, &used);
		msmtp_account(im, file, a, inst, false, false);
		if (from != NULL && msmtp_match_from(from) != NULL) {
			buf_printf(&pipeline, "smtp:%s, ", inst);
			nroutes++;
			if (a->line > dflt->line && (v = kv_value(dflt->kv,
			    "from")) != NULL && fnmatch(v, from, 0) == 0)
				note(&im->sect, "msmtp took the default "
				    "account %s for %s (it comes first in the "
				    "file); plume takes this route",
				    dflt->name, from);
		}
		free(inst);
	}
	if (nroutes > 0) {
		note(&im->glob, "msmtp chose the account whose from matched "
		    "-f (or --read-envelope-from); plume tries each "
		    "match_from route in pipeline order, then the default "
		    "[smtp].");
		note(&im->glob, "plume matches the From field too; without "
		    "-f the envelope sender is sender_address, whichever "
		    "route From picks.");
	}
	buf_adds(&pipeline, "smtp");
	emit(&im->glob, "pipeline", pipeline.data);
	buf_free(&pipeline);
out:
	buf_free(&used);
	accounts_free(accts);
	kv_free(defaults);
	return rc;
}

/* ---- ssmtp -------------------------------------------------------- */

static const char *const ssmtp_keys[] = {
	"root", "mailhub", "rewritedomain", "hostname", "fromlineoverride",
	"usetls", "usestarttls", "tls_ca_file", "tls_ca_dir", "usetlscert",
	"tlscert", "tlskey", "authuser", "authpass", "authmethod", "debug",
	NULL
};

static bool
ssmtp_yes(const char *v)
{
	return v != NULL && strcasecmp(v, "yes") == 0;
}

/* HOST[:PORT] into host and port; port NULL when not given. */
static int
split_hostport(const char *v, char **host_r, char **port_r)
{
	const char *c = strrchr(v, ':');

	*port_r = NULL;
	if (c == NULL || strchr(v, ':') != c) {	/* none, or IPv6 */
		*host_r = xstrdup(v);
		return *v != '\0' ? 0 : -1;
	}
	if (c == v || c[1] == '\0' || strspn(c + 1, "0123456789") !=
	    strlen(c + 1) || strlen(c + 1) > 5)
		return -1;
	*host_r = xstrndup(v, (size_t)(c - v));
	*port_r = xstrdup(c + 1);
	return 0;
}

/* A mailhub of revaliases other than ssmtp.conf's, and its senders. */
struct hub {
	char		*host;
	char		*port;		/* NULL: the default */
	char		*inst;		/* its [smtp "INST"] */
	struct buf	 from;		/* "a@d, b@d" for match_from */
	struct buf	 notes;		/* its lines, as comments */
	struct hub	*next;
};

static void
hubs_free(struct hub *h)
{
	while (h != NULL) {
		struct hub *next = h->next;

		free(h->host);
		free(h->port);
		free(h->inst);
		buf_free(&h->from);
		buf_free(&h->notes);
		free(h);
		h = next;
	}
}

/* Adds addr to h's match_from if it is an address; whether it was. */
static bool
hub_add_from(struct hub *h, const char *addr)
{
	if (strchr(addr, '@') == NULL || strchr(addr, '*') != NULL ||
	    route_pattern_check(addr) != NULL)
		return false;
	buf_printf(&h->from, "%s%s", h->from.len > 0 ? ", " : "", addr);
	return true;
}

/* Whether hosts and ports name one relay (a NULL port is dport). */
static bool
same_hub(const char *h1, const char *p1, const char *h2, const char *p2,
    const char *dport)
{
	return strcasecmp(h1, h2) == 0 && strcmp(p1 != NULL ? p1 : dport,
	    p2 != NULL ? p2 : dport) == 0;
}

/*
 * revaliases: "local_user:address[:mailhub[:port]]".  ssmtp sent a
 * local user's mail as address, through mailhub when one is given.
 * plume has no per-user sender, so the address becomes the match_from
 * of a route to that mailhub (one [smtp "HOST"] per mailhub that is not
 * ssmtp.conf's, returned in *hubs_r in file order): mail whose sender
 * or From is that address takes it.  So does the user's own address at
 * domain (rewriteDomain), plume's sender for the user without -f: that
 * keeps ssmtp's "this user's mail goes through that mailhub" even where
 * FromLineOverride=NO makes every sender the user at domain.  Lines for
 * ssmtp.conf's mailhub are comments, except a lone line for root, which
 * becomes sender_address.
 */
static int
ssmtp_revaliases(struct imp *im, const char *path, const char *mhost,
    const char *mport, const char *dport, const char *domain,
    struct hub **hubs_r)
{
	struct text t;
	struct kv *rev = NULL;
	struct hub *hubs = NULL, **tail = &hubs;
	struct buf used;
	char *s;
	int rc, n = 0;

	*hubs_r = NULL;
	if ((rc = text_open(im, &t, path)) == EX_NOINPUT && errno == ENOENT)
		return EX_OK;	/* revaliases is optional */
	if (rc != EX_OK)
		return rc;
	buf_init(&used);
	buf_adds(&used, "\nsmtp\n");	/* [smtp] is ssmtp.conf's */
	while ((s = text_next(&t)) != NULL) {
		char *c1 = strchr(s, ':'), *from, *hub, *host = NULL,
		    *port = NULL;
		struct hub *h;

		/* user, address and mailhub all go into the config */
		if ((rc = check_value(im, &t, "revaliases", s)) != EX_OK)
			break;
		if (c1 == NULL || c1 == s) {
			rc = fail_at(im, EX_DATAERR, path, t.line, "expected "
			    "'local_user:address[:mailhub[:port]]'");
			break;
		}
		*c1 = '\0';
		from = c1 + 1 + strspn(c1 + 1, " \t");
		if ((hub = strchr(from, ':')) != NULL)
			*hub++ = '\0';
		rtrim(from);
		rtrim(s);
		if (*from == '\0') {
			rc = fail_at(im, EX_DATAERR, path, t.line, "no address "
			    "for %s (expected 'local_user:address')", s);
			break;
		}
		if (hub != NULL) {
			hub += strspn(hub, " \t");
			rtrim(hub);
			if (*hub != '\0' && split_hostport(hub, &host,
			    &port) == -1) {
				free(host);
				rc = fail_at(im, EX_DATAERR, path, t.line,
				    "bad mailhub '%s' (expected HOST[:PORT])",
				    hub);
				break;
			}
		}
		n++;
		if (host == NULL || same_hub(host, port, mhost, mport,
		    dport)) {
			kv_set(&rev, s, from, t.line);
			free(host);
			free(port);
			continue;
		}
		for (h = hubs; h != NULL; h = h->next)
			if (same_hub(h->host, h->port, host, port, dport))
				break;
		if (h == NULL) {
			h = xcalloc(1, sizeof(*h));
			h->host = host;
			h->port = port;
			h->inst = instance_name(host, &used);
			buf_init(&h->from);
			buf_init(&h->notes);
			*tail = h;
			tail = &h->next;
		} else {
			free(host);
			free(port);
		}
		note(&h->notes, "revaliases:%u: ssmtp sent %s's mail as %s "
		    "through this mailhub", t.line, s, from);
		if (!hub_add_from(h, from))
			note(&h->notes, "(%s is not an address: no route for "
			    "it)", from);
		if (domain != NULL) {
			/* the user's own sender in plume, -f or not */
			char *own = xasprintf("%s@%s", s, domain);

			if (strcasecmp(own, from) != 0 && hub_add_from(h, own))
				note(&h->notes, "(and %s: plume's sender "
				    "for %s without -f)", own, s);
			free(own);
		}
	}
	text_close(&t);
	buf_free(&used);
	if (rc != EX_OK) {
		hubs_free(hubs);
		kv_free(rev);
		return rc;
	}
	if (n == 1 && rev != NULL && strcmp(rev->key, "root") == 0) {
		note(&im->glob, "revaliases: root's address is the sender "
		    "for every user without -f (plume has one sender_address)");
		emit(&im->glob, "sender_address", rev->value);
	} else
		for (struct kv *k = rev; k != NULL; k = k->next)
			note(&im->glob, "revaliases:%u: %s -> %s: plume has no "
			    "per-user sender; the user's mail goes out as "
			    "sender_address, or the user at domain", k->line,
			    k->key, k->value);
	if (hubs != NULL)
		note(&im->glob, "revaliases: mail sent as a listed address, "
		    "or as its user at domain, takes that mailhub's route "
		    "(match_from); plume does not rewrite the user's sender "
		    "to the address");
	kv_free(rev);
	*hubs_r = hubs;
	return EX_OK;
}

/*
 * One [smtp] section (inst NULL) or [smtp "INST"] for a revaliases
 * mailhub: ssmtp used its TLS and login settings for every mailhub, so
 * each section gets them, and the same password file.
 */
static void
ssmtp_section(struct imp *im, const struct kv *kv, const char *file,
    const struct hub *h, const char *host, const char *port)
{
	struct buf *b = &im->sect;
	bool starttls = ssmtp_yes(kv_value(kv, "usestarttls"));
	bool tls = starttls || ssmtp_yes(kv_value(kv, "usetls"));
	const char *v;

	if (h == NULL)
		buf_printf(b, "\n[smtp]\n");
	else {
		buf_printf(b, "\n[smtp \"%s\"]\n", h->inst);
		if (h->notes.data != NULL)
			buf_adds(b, h->notes.data);
		if (h->from.len > 0)
			emit(b, "match_from", h->from.data);
		host = h->host;
		port = h->port;
	}
	emit(b, "host", host);
	emit(b, "port", port != NULL ? port : tls && !starttls ? "465" :
	    "25");
	if (!tls)
		note_was_plaintext(b, "ssmtp");
	else {
		emit(b, "tls", starttls ? "starttls" : "implicit");
		note_no_verify(b, "ssmtp");
	}
	if ((v = kv_value(kv, "tls_ca_file")) != NULL && *v != '\0')
		emit(b, "tls_ca_file", v);
	if ((v = kv_value(kv, "tls_ca_dir")) != NULL && *v != '\0')
		emit(b, "tls_ca_dir", v);
	if (ssmtp_yes(kv_value(kv, "usetlscert"))) {
		const char *cert = kv_value(kv, "tlscert");
		const char *key = kv_value(kv, "tlskey");

		if (cert == NULL)
			cert = "/etc/ssl/certs/ssmtp.pem";	/* ssmtp's */
		emit(b, "tls_cert_file", cert);
		emit(b, "tls_key_file", key != NULL ? key : cert);
	}
	if ((v = kv_value(kv, "authuser")) != NULL && *v != '\0') {
		const struct kv *pw = kv_get(kv, "authpass");
		const char *m = kv_value(kv, "authmethod");

		emit(b, "user", v);
		if (m != NULL && strcasecmp(m, "cram-md5") == 0)
			emit(b, "auth", "cram-md5");
		else if (h == NULL)
			note(b, "ssmtp logged in with AUTH LOGIN; plume uses "
			    "the strongest mechanism offered");
		if (h == NULL)
			add_secret(im, b, "smtp", pw != NULL ? pw->value :
			    NULL, file, pw != NULL ? pw->line : 0, pw != NULL ?
			    "ssmtp's AuthPass" : "ssmtp had no AuthPass");
		else {
			char *path = xasprintf("%s/smtp.secret", pw != NULL &&
			    im->secrets_dir != NULL ? im->secrets_dir :
			    SECRET_DIR);

			emit(b, "password_file", path);
			note(b, "the password of [smtp]: ssmtp had one "
			    "AuthUser and AuthPass for every mailhub");
			free(path);
		}
	}
	if (h != NULL)
		return;
	for (const struct kv *k = kv; k != NULL; k = k->next)
		if (strcasecmp(k->key, "debug") == 0)
			note(b, "Debug=%s: use plume -v, and plume log",
			    k->value);
		else if (!in_list(ssmtp_keys, k->key))
			note(b, "%s=%s: not an ssmtp setting plume knows; "
			    "dropped", k->key, k->value);
}

static int
import_ssmtp(struct imp *im, const char *file)
{
	struct text t;
	struct kv *kv = NULL;
	struct hub *hubs = NULL;
	struct buf pipeline;
	char *s, *host = NULL, *port = NULL, *rev = NULL, *slash;
	const char *v;
	bool tls, starttls;
	int rc;

	buf_init(&pipeline);
	if ((rc = text_open(im, &t, file)) != EX_OK)
		return rc;
	while ((s = text_next(&t)) != NULL) {
		char *eq = strchr(s, '='), *key, *val;

		if (eq == NULL || eq == s) {
			rc = fail_at(im, EX_DATAERR, file, t.line,
			    "expected 'Key=Value'");
			break;
		}
		*eq = '\0';
		key = s;
		rtrim(key);
		val = eq + 1 + strspn(eq + 1, " \t");
		if (strspn(key, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen(key)) {
			rc = fail_at(im, EX_DATAERR, file, t.line, "bad key "
			    "'%s' (expected 'Key=Value')", key);
			break;
		}
		if ((rc = check_value(im, &t, key, val)) != EX_OK)
			break;
		kv_set(&kv, key, val, t.line);
	}
	text_close(&t);
	if (rc != EX_OK)
		goto out;
	if ((v = kv_value(kv, "mailhub")) == NULL || split_hostport(v,
	    &host, &port) == -1) {
		const struct kv *k = kv_get(kv, "mailhub");

		rc = fail_at(im, EX_DATAERR, file, k ? k->line : 0,
		    "%s (expected mailhub=HOST[:PORT])", k ? "bad mailhub" :
		    "no mailhub");
		goto out;
	}
	starttls = ssmtp_yes(kv_value(kv, "usestarttls"));
	tls = starttls || ssmtp_yes(kv_value(kv, "usetls"));

	if ((v = kv_value(kv, "hostname")) != NULL && *v != '\0')
		emit(&im->glob, "hostname", v);
	if ((v = kv_value(kv, "rewritedomain")) != NULL && *v != '\0')
		emit(&im->glob, "domain", v);
	if ((v = kv_value(kv, "root")) != NULL && *v != '\0') {
		note(&im->glob, "root=%s: ssmtp sent mail for system users "
		    "(uid < 1000) there; plume sends mail for local names "
		    "without an alias to default_recipient", v);
		if (strchr(v, '@') != NULL)
			emit(&im->glob, "default_recipient", v);
		else
			note(&im->glob, "(not an address: set "
			    "default_recipient = %s@DOMAIN, or an alias)", v);
	}
	if (ssmtp_yes(kv_value(kv, "fromlineoverride")))
		note(&im->glob, "FromLineOverride=YES: the caller's -f and "
		    "From stay (plume's default, envelope_from = always)");
	else {
		note(&im->glob, "FromLineOverride=NO (ssmtp's default): the "
		    "sender is the user at the domain, From is rewritten");
		emit(&im->glob, "envelope_from", "never");
		emit(&im->glob, "from_rewrite", "always");
	}
	rev = xstrdup(file);
	slash = strrchr(rev, '/');
	s = xasprintf("%.*srevaliases", slash ? (int)(slash - rev + 1) : 0,
	    rev);
	free(rev);
	rev = s;
	v = kv_value(kv, "rewritedomain");
	if ((rc = ssmtp_revaliases(im, rev, host, port, tls && !starttls ?
	    "465" : "25", v != NULL && *v != '\0' ? v : NULL, &hubs)) !=
	    EX_OK)
		goto out;
	for (const struct hub *h = hubs; h != NULL; h = h->next)
		if (h->from.len > 0)
			buf_printf(&pipeline, "smtp:%s, ", h->inst);
	buf_adds(&pipeline, "smtp");
	emit(&im->glob, "pipeline", pipeline.data);

	ssmtp_section(im, kv, file, NULL, host, port);
	for (const struct hub *h = hubs; h != NULL; h = h->next)
		ssmtp_section(im, kv, file, h, NULL, NULL);
out:
	buf_free(&pipeline);
	hubs_free(hubs);
	free(rev);
	free(host);
	free(port);
	kv_free(kv);
	return rc;
}

/* ---- dma ---------------------------------------------------------- */

/* dma.conf's words: with a value, and without. */
static const char *const dma_valued[] = {
	"SMARTHOST", "PORT", "ALIASES", "SPOOLDIR", "AUTHPATH", "CERTFILE",
	"MAILNAME", "MASQUERADE", "FINGERPRINT", NULL
};
static const char *const dma_flags[] = {
	"SECURETRANSFER", "STARTTLS", "OPPORTUNISTIC_TLS", "SECURE",
	"INSECURE", "DEFER", "FULLBOUNCE", "NULLCLIENT", "NOHELO", "VERBOSE",
	NULL
};

/* The user and password for host from auth.conf ("user|host:pw"). */
static int
dma_auth(struct imp *im, const char *path, const char *host,
    struct kv **login_r, struct buf *notes)
{
	struct text t;
	char *s;
	int rc;

	*login_r = NULL;
	if ((rc = text_open(im, &t, path)) != EX_OK)
		return rc;
	while ((s = text_next(&t)) != NULL) {
		char *bar = strchr(s, '|'), *colon;

		colon = bar != NULL ? strchr(bar + 1, ':') : NULL;
		if (bar == NULL || bar == s || colon == NULL ||
		    colon == bar + 1) {
			rc = fail_at(im, EX_DATAERR, path, t.line, "expected "
			    "'user|smarthost:password'");
			break;
		}
		*bar = *colon = '\0';
		if ((rc = check_value(im, &t, "the user", s)) != EX_OK)
			break;
		if (strcasecmp(bar + 1, host) != 0) {
			note(notes, "%s:%u: a login for %s, not the "
			    "smarthost: not used (dma used it only to deliver "
			    "to that host itself, as an MX; plume always "
			    "relays through host)", path, t.line, bar + 1);
			continue;
		}
		if (*login_r == NULL) {
			kv_set(login_r, "user", s, t.line);
			kv_set(login_r, "password", colon + 1, t.line);
		}
	}
	text_close(&t);
	if (rc != EX_OK) {
		kv_free(*login_r);
		*login_r = NULL;
	}
	return rc;
}

static int
import_dma(struct imp *im, const char *dir)
{
	struct text t;
	struct kv *kv = NULL, *login = NULL;
	struct buf notes;
	char *s, *path, *authpath = NULL, *domain = NULL, *sender = NULL;
	const char *v, *host, *mailname;
	bool starttls, tls;
	int rc;

	buf_init(&notes);
	path = xasprintf("%s/dma.conf", dir);
	if ((rc = text_open(im, &t, path)) != EX_OK) {
		free(path);
		return rc;
	}
	while ((s = text_next(&t)) != NULL) {
		size_t n = strcspn(s, " \t");
		char *val = s + n + strspn(s + n, " \t");

		s[n] = '\0';
		if (in_list(dma_valued, s) ? *val == '\0' :
		    in_list(dma_flags, s) ? *val != '\0' : true) {
			rc = fail_at(im, EX_DATAERR, path, t.line, "%s '%s' "
			    "(expected a dma.conf(5) setting such as "
			    "SMARTHOST host or STARTTLS)", in_list(dma_valued,
			    s) ? "no value for" : in_list(dma_flags, s) ?
			    "a value after" : "unknown setting", s);
			break;
		}
		if ((rc = check_value(im, &t, s, val)) != EX_OK)
			break;
		kv_set(&kv, s, val, t.line);
	}
	text_close(&t);
	if (rc != EX_OK)
		goto out;
	if ((host = kv_value(kv, "SMARTHOST")) == NULL) {
		rc = fail_at(im, EX_DATAERR, path, 0, "no SMARTHOST: dma "
		    "delivered to each domain's MX itself, plume relays "
		    "(expected SMARTHOST host)");
		goto out;
	}
	if ((v = kv_value(kv, "PORT")) != NULL && (strspn(v, "0123456789")
	    != strlen(v) || strlen(v) > 5)) {
		rc = fail_at(im, EX_DATAERR, path, kv_get(kv, "PORT")->line,
		    "bad PORT '%s' (expected a number)", v);
		goto out;
	}
	if ((v = kv_value(kv, "AUTHPATH")) != NULL) {
		const char *base = strrchr(v, '/') ? strrchr(v, '/') + 1 : v;
		char *local = xasprintf("%s/%s", dir, base);

		if (access(local, F_OK) == 0) {
			authpath = local;
		} else {
			free(local);
			authpath = xstrdup(v);
		}
		if ((rc = dma_auth(im, authpath, host, &login, &notes)) !=
		    EX_OK)
			goto out;
	}

	/* MAILNAME names this host (EHLO) and qualifies addresses. */
	mailname = kv_value(kv, "MAILNAME");
	if (mailname != NULL && mailname[0] == '/') {
		if (strcmp(mailname, "/etc/mailname") == 0)
			note(&im->glob, "MAILNAME /etc/mailname: plume reads "
			    "it too (the domain)");
		else
			note(&im->glob, "MAILNAME %s: plume reads its domain "
			    "from /etc/mailname; write domain = the first line "
			    "of %s", mailname, mailname);
		mailname = NULL;
	}
	if (mailname != NULL) {
		emit(&im->glob, "hostname", mailname);
		domain = xstrdup(mailname);
	}
	if ((v = kv_value(kv, "MASQUERADE")) != NULL) {
		const char *at = strrchr(v, '@');

		if (at == NULL) {		/* "host" */
			free(domain);
			domain = xstrdup(v);
		} else if (at[1] != '\0')	/* "user@host" */
			sender = xstrdup(v);
		else if (domain != NULL)	/* "user@" */
			sender = xasprintf("%s%s", v, domain);
		note(&im->glob, "MASQUERADE %s: every envelope sender is "
		    "rewritten%s", v, sender == NULL && at != NULL ?
		    "; set sender_address (user@ without a MAILNAME)" : "");
	}
	if (domain != NULL)
		emit(&im->glob, "domain", domain);
	if ((v = kv_value(kv, "ALIASES")) != NULL)
		emit(&im->glob, "aliases", v);
	if (sender != NULL)
		emit(&im->glob, "sender_address", sender);
	if (kv_get(kv, "MASQUERADE") != NULL)
		emit(&im->glob, "envelope_from", "never");
	if (kv_get(kv, "DEFER") != NULL) {
		emit(&im->glob, "delivery", "queue");
		note(&im->glob, "DEFER: mail waits for the queue run (plume "
		    "queue run, or the systemd timer)");
	}
	if ((v = kv_value(kv, "SPOOLDIR")) != NULL)
		note(&im->glob, "SPOOLDIR %s: plume keeps its own queue "
		    "(queue_dir); flush dma's with dma -q before switching", v);
	emit(&im->glob, "pipeline", "smtp");

	starttls = kv_get(kv, "STARTTLS") != NULL;
	tls = starttls || kv_get(kv, "SECURETRANSFER") != NULL;
	buf_printf(&im->sect, "\n[smtp]\n");
	emit(&im->sect, "host", host);
	emit(&im->sect, "port", (v = kv_value(kv, "PORT")) != NULL ? v :
	    "25");
	if (!tls)
		note_was_plaintext(&im->sect, "dma");
	else {
		emit(&im->sect, "tls", starttls ? "starttls" : "implicit");
		if (kv_get(kv, "OPPORTUNISTIC_TLS") != NULL)
			note(&im->sect, "OPPORTUNISTIC_TLS: plume never falls "
			    "back to plaintext; a relay without STARTTLS "
			    "fails (temporarily)");
	}
	if ((v = kv_value(kv, "FINGERPRINT")) != NULL)
		emit(&im->sect, "tls_fingerprint", v);
	else if (tls)
		note_no_verify(&im->sect, "dma");
	if ((v = kv_value(kv, "CERTFILE")) != NULL) {
		emit(&im->sect, "tls_cert_file", v);
		emit(&im->sect, "tls_key_file", v);
		note(&im->sect, "CERTFILE holds the certificate and its key");
	}
	if (login != NULL) {
		const struct kv *pw = kv_get(login, "password");

		emit(&im->sect, "user", kv_value(login, "user"));
		add_secret(im, &im->sect, "smtp", pw->value, authpath,
		    pw->line, "the auth.conf password");
	} else if (authpath != NULL)
		note(&im->sect, "%s has no login for %s: no AUTH", authpath,
		    host);
	if (notes.len > 0)
		buf_adds(&im->sect, notes.data);
	if (kv_get(kv, "INSECURE") != NULL)
		note(&im->sect, "INSECURE: plume logs in only over TLS "
		    "unless allow_plaintext_auth = yes (not set here)");
	for (const struct kv *k = kv; k != NULL; k = k->next) {
		static const char *const quiet[] = {
			"SMARTHOST", "PORT", "ALIASES", "SPOOLDIR", "AUTHPATH",
			"CERTFILE", "MAILNAME", "MASQUERADE", "FINGERPRINT",
			"SECURETRANSFER", "STARTTLS", "OPPORTUNISTIC_TLS",
			"INSECURE", "DEFER", NULL
		};

		if (in_list(quiet, k->key))
			continue;
		if (strcmp(k->key, "SECURE") == 0)
			note(&im->sect, "SECURE: plume's behaviour too");
		else if (strcmp(k->key, "FULLBOUNCE") == 0)
			note(&im->sect, "FULLBOUNCE: plume's bounces hold the "
			    "message up to bounce_size_limit (default 50k)");
		else if (strcmp(k->key, "NULLCLIENT") == 0)
			note(&im->sect, "NULLCLIENT: plume relays everything "
			    "through host, as a null client does");
		else
			note(&im->sect, "%s: no equivalent in plume", k->key);
	}
out:
	buf_free(&notes);
	free(path);
	free(authpath);
	free(domain);
	free(sender);
	kv_free(login);
	kv_free(kv);
	return rc;
}

/* ---- the command -------------------------------------------------- */

static char *
default_msmtprc(void)
{
	const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");
	char *p;

	if (home == NULL || *home == '\0')
		home = ".";
	p = xasprintf("%s/.msmtprc", home);
	if (access(p, F_OK) == 0)
		return p;
	free(p);
	if (xdg != NULL && xdg[0] == '/')
		return xasprintf("%s/msmtp/config", xdg);
	return xasprintf("%s/.config/msmtp/config", home);
}

int
import_main(int argc, char **argv)
{
	static const char usage[] = "usage: plume import msmtprc|ssmtp|dma "
	    "[--write-secrets DIR] [FILE|DIR]";
	struct imp im;
	const char *kind, *input = NULL;
	char *path = NULL, *sdir = NULL;
	int i, rc;

	if (argc < 1) {
		fprintf(stderr, "plume: %s\n", usage);
		return EX_USAGE;
	}
	memset(&im, 0, sizeof(im));
	kind = im.kind = argv[0];
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--write-secrets") == 0 && i + 1 < argc &&
		    sdir == NULL && argv[i + 1][0] != '\0') {
			char cwd[4096];

			/* absolute: the config is used from anywhere */
			if (argv[++i][0] == '/')
				sdir = xstrdup(argv[i]);
			else if (getcwd(cwd, sizeof(cwd)) != NULL)
				sdir = xasprintf("%s/%s", cwd, argv[i]);
			else {
				fprintf(stderr, "plume: getcwd: %s\n",
				    strerror(errno));
				return EX_OSERR;
			}
		} else if (argv[i][0] != '-' && input == NULL)
			input = argv[i];
		else {
			fprintf(stderr, "plume: %s\n", usage);
			free(sdir);
			return EX_USAGE;
		}
	}
	im.secrets_dir = sdir;
	buf_init(&im.glob);
	buf_init(&im.sect);
	if (strcmp(kind, "msmtprc") == 0 || strcmp(kind, "msmtp") == 0) {
		path = input != NULL ? xstrdup(input) : default_msmtprc();
		rc = import_msmtp(&im, path);
	} else if (strcmp(kind, "ssmtp") == 0) {
		path = xstrdup(input != NULL ? input :
		    "/etc/ssmtp/ssmtp.conf");
		rc = import_ssmtp(&im, path);
	} else if (strcmp(kind, "dma") == 0) {
		path = xstrdup(input != NULL ? input : "/etc/dma");
		rc = import_dma(&im, path);
	} else {
		fprintf(stderr, "plume: unknown kind '%s'\nplume: %s\n", kind,
		    usage);
		rc = EX_USAGE;
		goto out;
	}
	if (rc == EX_OK)
		rc = secrets_write(&im);
	if (rc != EX_OK) {
		fprintf(stderr, "plume: import %s: %s\n", kind, im.err);
		goto out;
	}
	printf("# plume.conf converted from %s by \"plume import %s\".\n"
	    "# The comments say what plume does differently; check the "
	    "result with\n# \"plume config check\" and send a test with "
	    "\"sendmail -v you@example.org\".\n", path, kind);
	fputs(im.glob.data != NULL ? im.glob.data : "", stdout);
	fputs(im.sect.data != NULL ? im.sect.data : "", stdout);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "plume: import: standard output: %s\n",
		    strerror(errno));
		rc = EX_IOERR;
	}
out:
	secrets_free(im.secrets);
	buf_free(&im.glob);
	buf_free(&im.sect);
	free(path);
	free(sdir);
	return rc;
}
