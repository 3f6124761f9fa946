/*
 * NAME
 *	dkim_sign.c - DKIM signatures over a plume message (RFC 6376,
 *	RFC 8463)
 * SYNOPSIS
 *	int dkim_sign_msg(host, msg, opts, keys, nkeys, err, errlen)
 *	char **dkim_hlist(host, msg, sign, oversign)
 *	bool dkim_identity_ok(identity, domain)
 * DESCRIPTION
 *	dkim_sign_msg() adds one DKIM-Signature field per key at the top
 *	of msg, all over the same body hash: the body is read once, through
 *	host->stream_open(PLUME_STREAM_BODY), canonicalized and hashed as
 *	it streams, so memory stays flat whatever its size.  The header
 *	fields named in opts->hnames are hashed once; each key's own
 *	signature field is then hashed on a copy of that state.  Every
 *	signature is computed before any field is added, so no signature
 *	of one pass covers another.
 *
 *	The field reads
 *
 *	  DKIM-Signature: v=1; a=ALG; c=H/B; d=DOMAIN; s=SELECTOR;
 *		t=TIME; [x=TIME;] [l=LENGTH;] [i=IDENTITY;] h=NAME:...;
 *		bh=BODYHASH;
 *		b=SIGNATURE
 *
 *	folded with CRLF TAB so that no line passes 78 columns: between
 *	tags, after a colon of h= (FWS may stand there), and inside b=,
 *	which always starts a line of its own.  b= is computed over the
 *	field exactly as it is added, up to and including "b=" (RFC 6376
 *	3.7: the b= value with the white space in it deleted, the field
 *	without its final CRLF), canonicalized as c= says.
 *
 *	h= is taken literally: a name listed n times signs the last n
 *	fields of that name, bottom up; a name listed more often than the
 *	message has such fields signs their absence, so a verifier fails
 *	when one is added (oversigning, RFC 6376 5.4.2 and 8.15).
 *	dkim_hlist() builds it: each name of sign as often as the message
 *	has it, one more for each name of oversign (present or not).  The
 *	message must have a From field and h= must name From (5.4).
 *
 *	dkim_identity_ok() accepts an i= value "[local]@domain" whose
 *	domain is d= or below it and whose local part needs no
 *	quoted-printable encoding.
 * DIAGNOSTICS
 *	-1 with one line in err: no From field, a read error on the body,
 *	an OpenSSL failure, or no memory.  The message is then unchanged.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "b64.h"
#include "dkim_sign.h"
#include "dkim_util.h"

#define FOLD_AT		78
#define READ_CHUNK	65536

/*
 * RFC 6376 5.4.1's list, and the MIME fields, Message-ID, Sender and
 * RFC 8058's List-Unsubscribe-Post: each is signed when present.
 */
const char *const dkim_default_headers[] = {
	"From", "Reply-To", "Subject", "Date", "To", "Cc",
	"Resent-Date", "Resent-From", "Resent-Sender", "Resent-To",
	"Resent-Cc", "In-Reply-To", "References", "List-Id", "List-Help",
	"List-Unsubscribe", "List-Subscribe", "List-Post", "List-Owner",
	"List-Archive", "List-Unsubscribe-Post", "Sender", "Message-ID",
	"MIME-Version", "Content-Type", "Content-Transfer-Encoding",
	NULL,
};

/* One extra, empty instance of each: none can be added after signing. */
const char *const dkim_default_oversign[] = {
	"From", "To", "Cc", "Subject", "Date", "Reply-To", "Message-ID",
	"MIME-Version", "Content-Type", "List-Unsubscribe",
	NULL,
};

/* A SHA-256 in progress, fed by the canonicalizers. */
struct hasher {
	EVP_MD_CTX *ctx;
	bool	 failed;
};

static void
sha_out(void *arg, const void *p, size_t n)
{
	struct hasher *hs = arg;

	if (EVP_DigestUpdate(hs->ctx, p, n) != 1)
		hs->failed = true;
}

static bool
name_in(const char *name, const char *const *list)
{
	for (size_t i = 0; list != NULL && list[i] != NULL; i++)
		if (strcasecmp(list[i], name) == 0)
			return true;
	return false;
}

static size_t
count_fields(const struct plume_host *h, struct plume_msg *m,
    const char *name)
{
	size_t n = 0;

	while (h->header_find(m, name, n) >= 0)
		n++;
	return n;
}

static int
strv_push(char ***v, size_t *n, const char *s)
{
	char **nv, *copy;

	if ((copy = dkim_strdup(s)) == NULL)
		return -1;
	if ((nv = realloc(*v, (*n + 2) * sizeof(**v))) == NULL) {
		free(copy);
		return -1;
	}
	*v = nv;
	(*v)[(*n)++] = copy;
	(*v)[*n] = NULL;
	return 0;
}

char **
dkim_hlist(const struct plume_host *h, struct plume_msg *m,
    const char *const *sign, const char *const *oversign)
{
	char **v = calloc(1, sizeof(*v));	/* empty, but not NULL */
	size_t n = 0;

	if (v == NULL)
		return NULL;
	for (int pass = 0; pass < 2; pass++) {
		const char *const *list = pass == 0 ? sign : oversign;

		for (size_t i = 0; list != NULL && list[i] != NULL; i++) {
			const char *name = list[i];
			size_t k;

			/* once per name, and oversign-only names last */
			if (name_in(name, (const char *const *)v) ||
			    (pass == 1 && name_in(name, sign)))
				continue;
			k = count_fields(h, m, name) +
			    (name_in(name, oversign) ? 1 : 0);
			while (k-- > 0)
				if (strv_push(&v, &n, name) == -1) {
					dkim_strv_free(v);
					return NULL;
				}
		}
	}
	return v;
}

bool
dkim_identity_ok(const char *id, const char *domain)
{
	const char *at = strrchr(id, '@'), *dom;
	size_t dl, il;

	if (at == NULL)
		return false;
	for (const char *p = id; p < at; p++) {
		unsigned char c = (unsigned char)*p;

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || strchr("!#$%&'*+-/?^_`{|}~.",
		    c) != NULL))
			return false;
	}
	dom = at + 1;
	if (!dkim_domain_ok(dom))
		return false;
	dl = strlen(domain);
	il = strlen(dom);
	return strcasecmp(dom, domain) == 0 || (il > dl &&
	    dom[il - dl - 1] == '.' && strcasecmp(dom + il - dl, domain) == 0);
}

/* ---- the field, folded ----------------------------------------------- */

struct fold {
	struct dstr s;
	size_t	 col;
};

/* Appends a piece that must not be split, on a new line when it would
   pass the fold column; sep is put before it when it stays. */
static void
fold_piece(struct fold *f, const char *sep, const char *piece, size_t n)
{
	size_t sl = strlen(sep);

	if (f->col > 1 && f->col + sl + n > FOLD_AT) {
		dstr_add(&f->s, "\r\n\t", 3);
		f->col = 1;
	} else {
		dstr_add(&f->s, sep, sl);
		f->col += sl;
	}
	dstr_add(&f->s, piece, n);
	f->col += n;
}

static void
fold_tag(struct fold *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
fold_tag(struct fold *f, const char *fmt, ...)
{
	char buf[600];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		f->s.oom = true;
		return;
	}
	fold_piece(f, f->s.len > 0 ? " " : "", buf, (size_t)n);
}

/* The field's value up to "b=", which starts a line of its own. */
static int
field_head(struct fold *f, const struct dkim_sig_opts *o,
    const struct dkim_key *k, const char *bh, unsigned long long blen)
{
	const char *const *hn = o->hnames;

	memset(f, 0, sizeof(*f));
	f->col = sizeof("DKIM-Signature: ") - 1;
	fold_tag(f, "v=1;");
	fold_tag(f, "a=%s;", dkim_alg_name(k->alg));
	fold_tag(f, "c=%s/%s;", dkim_canon_name(o->hcanon),
	    dkim_canon_name(o->bcanon));
	fold_tag(f, "d=%s;", o->domain);
	fold_tag(f, "s=%s;", k->selector);
	fold_tag(f, "t=%lld;", (long long)o->now);
	if (o->expire > 0)
		fold_tag(f, "x=%lld;", (long long)o->now + o->expire);
	if (o->body_length)
		fold_tag(f, "l=%llu;", blen);
	if (o->identity != NULL)
		fold_tag(f, "i=%s;", o->identity);
	for (size_t i = 0; hn[i] != NULL; i++) {
		char piece[300];
		int n = snprintf(piece, sizeof(piece), "%s%s%c",
		    i == 0 ? "h=" : "", hn[i], hn[i + 1] != NULL ? ':' : ';');

		if (n < 0 || (size_t)n >= sizeof(piece))
			return -1;
		fold_piece(f, i == 0 ? " " : "", piece, (size_t)n);
	}
	fold_tag(f, "bh=%s;", bh);
	dstr_str(&f->s, "\r\n\tb=");
	f->col = 3;
	return f->s.oom ? -1 : 0;
}

/* b= value, folded: the rest of the "\tb=" line, then whole lines. */
static void
field_b(struct fold *f, const char *b64)
{
	size_t left = strlen(b64), room = FOLD_AT - f->col;

	while (left > 0) {
		size_t n = left < room ? left : room;

		dstr_add(&f->s, b64, n);
		b64 += n;
		left -= n;
		if (left > 0)
			dstr_add(&f->s, "\r\n\t", 3);
		room = FOLD_AT - 1;
	}
}

/* ---- hashing --------------------------------------------------------- */

static int
body_hash(const struct plume_host *h, struct plume_msg *m,
    enum dkim_canon canon, char **bh_r, unsigned long long *len_r,
    char *err, size_t errlen)
{
	struct hasher hs = { EVP_MD_CTX_new(), false };
	struct plume_stream *st = NULL;
	struct dkim_body *b = NULL;
	unsigned char *buf = NULL, md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	ssize_t n = 0;
	int rc = -1;

	if (hs.ctx == NULL || (b = malloc(sizeof(*b))) == NULL ||
	    (buf = malloc(READ_CHUNK)) == NULL ||
	    EVP_DigestInit_ex(hs.ctx, EVP_sha256(), NULL) != 1) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if ((st = h->stream_open(m, PLUME_STREAM_BODY)) == NULL) {
		snprintf(err, errlen, "cannot read the message body");
		goto out;
	}
	dkim_body_init(b, canon, sha_out, &hs);
	while ((n = h->stream_read(st, buf, READ_CHUNK)) > 0)
		dkim_body_update(b, buf, (size_t)n);
	if (n < 0) {
		snprintf(err, errlen, "cannot read the message body");
		goto out;
	}
	dkim_body_final(b);
	if (hs.failed || EVP_DigestFinal_ex(hs.ctx, md, &mdlen) != 1 ||
	    (*bh_r = b64_encode(md, mdlen)) == NULL) {
		snprintf(err, errlen, "cannot hash the body");
		goto out;
	}
	*len_r = b->length;
	rc = 0;
out:
	if (st != NULL)
		h->stream_close(st);
	EVP_MD_CTX_free(hs.ctx);
	free(b);
	free(buf);
	ERR_clear_error();
	return rc;
}

/* Hashes the fields h= names, each name's fields taken bottom up. */
static void
hash_fields(const struct plume_host *h, struct plume_msg *m,
    const struct dkim_sig_opts *o, struct hasher *hs)
{
	const char *const *hn = o->hnames;

	for (size_t i = 0; hn[i] != NULL; i++) {
		size_t used = 0, total = count_fields(h, m, hn[i]), len;
		const char *raw;
		long idx;

		for (size_t j = 0; j < i; j++)
			if (strcasecmp(hn[j], hn[i]) == 0)
				used++;
		if (used >= total)
			continue;	/* signs that there is no more */
		if ((idx = h->header_find(m, hn[i], total - 1 - used)) < 0 ||
		    (raw = h->header_get(m, (size_t)idx, NULL)) == NULL)
			continue;
		len = strlen(raw);
		dkim_header_canon(o->hcanon, raw, len, true, sha_out, hs);
	}
}

int
dkim_sign_msg(const struct plume_host *h, struct plume_msg *m,
    const struct dkim_sig_opts *o, struct dkim_key *const *keys, size_t nkeys,
    char *err, size_t errlen)
{
	struct hasher base = { EVP_MD_CTX_new(), false };
	struct hasher kh = { EVP_MD_CTX_new(), false };
	char **values = calloc(nkeys + 1, sizeof(*values)), *bh = NULL;
	unsigned long long blen = 0;
	const char *e = NULL;
	int rc = -1;

	if (base.ctx == NULL || kh.ctx == NULL || values == NULL ||
	    EVP_DigestInit_ex(base.ctx, EVP_sha256(), NULL) != 1) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (h->header_find(m, "From", 0) < 0) {
		snprintf(err, errlen, "the message has no From field, which "
		    "a signature must cover");
		goto out;
	}
	if (!name_in("From", o->hnames)) {
		snprintf(err, errlen, "the signed fields must include From "
		    "(RFC 6376 5.4)");
		goto out;
	}
	if (body_hash(h, m, o->bcanon, &bh, &blen, err, errlen) == -1)
		goto out;
	hash_fields(h, m, o, &base);
	for (size_t i = 0; i < nkeys; i++) {
		struct fold f;
		unsigned char md[EVP_MAX_MD_SIZE], *sig = NULL;
		unsigned mdlen = 0;
		size_t siglen = 0;
		char *b64;
		struct dstr whole = { NULL, 0, 0, false };

		if (field_head(&f, o, keys[i], bh, blen) == -1) {
			dstr_free(&f.s);
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		/* the field as it will read, b= empty, without CRLF */
		dstr_str(&whole, "DKIM-Signature: ");
		dstr_add(&whole, f.s.p, f.s.len);
		kh.failed = base.failed;
		if (whole.oom || EVP_MD_CTX_copy_ex(kh.ctx, base.ctx) != 1) {
			dstr_free(&whole);
			dstr_free(&f.s);
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		dkim_header_canon(o->hcanon, whole.p, whole.len, false,
		    sha_out, &kh);
		dstr_free(&whole);
		if (kh.failed || EVP_DigestFinal_ex(kh.ctx, md, &mdlen) != 1) {
			snprintf(err, errlen, "cannot hash the header");
			dstr_free(&f.s);
			goto out;
		}
		if (dkim_key_sign(keys[i], md, mdlen, &sig, &siglen, err,
		    errlen) == -1) {
			dstr_free(&f.s);
			goto out;
		}
		b64 = b64_encode(sig, siglen);
		free(sig);
		if (b64 == NULL) {
			dstr_free(&f.s);
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		field_b(&f, b64);
		free(b64);
		if (f.s.oom) {
			dstr_free(&f.s);
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		values[i] = f.s.p;
	}
	/* the first key's signature ends on top */
	for (size_t i = nkeys; i-- > 0;)
		if (h->header_add(m, PLUME_HEADER_PREPEND, "DKIM-Signature",
		    values[i], &e) == -1) {
			/* take back those already added */
			for (size_t j = i + 1; j < nkeys; j++)
				h->header_remove(m, 0);
			snprintf(err, errlen, "cannot add the signature: %s",
			    e != NULL ? e : "refused");
			goto out;
		}
	rc = 0;
out:
	for (size_t i = 0; values != NULL && i < nkeys; i++)
		free(values[i]);
	free(values);
	free(bh);
	EVP_MD_CTX_free(base.ctx);
	EVP_MD_CTX_free(kh.ctx);
	ERR_clear_error();
	return rc;
}
