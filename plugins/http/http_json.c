/*
 * NAME
 *	http_json.c - a MIME message as a SendGrid or Postmark JSON request
 * SYNOPSIS
 *	void http_json_init(void)
 *	void http_json_shutdown(void)
 *	char *http_json_convert(provider, env, msg, len, err, errlen)
 * DESCRIPTION
 *	Two providers the http transport talks to take no raw MIME, only
 *	a JSON description of the message, from which they build and sign
 *	a message of their own.  So whatever plume did to the message is
 *	not what is delivered: the provider re-generates the MIME
 *	structure, the Date, Message-ID (unless carried, below) and
 *	Received fields, and signs with its own DKIM key.  A DKIM
 *	signature made by plume's dkim filter does not survive (it is
 *	dropped here, and could not verify anyway); configure DKIM at the
 *	provider instead.
 *
 *	The requests follow the providers' documentation:
 *	  SendGrid v3 POST /v3/mail/send:
 *	    https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send
 *	    and its OpenAPI text (as mirrored in api-evangelist/sendgrid,
 *	    openapi/sendgrid-mail-send-api-openapi.yml): field names,
 *	    personalizations to/cc/bcc, reply_to vs reply_to_list, the
 *	    headers that may not be overridden, content and attachments
 *	    (content, type, filename, disposition, content_id), minLength
 *	    1 on subject and content values;
 *	    https://docs.sendgrid.com/api-reference/mail-send/limitations
 *	    (1000 recipients per request, to, cc and bcc together; no ','
 *	    or ';' in to/cc/bcc names);
 *	    https://www.twilio.com/docs/sendgrid/for-developers/sending-email/personalizations
 *	    (at least one "to" per personalization).
 *	  Postmark POST /email:
 *	    https://postmarkapp.com/developer/api/email-api (body format:
 *	    From, To, Cc, Bcc, Subject, HtmlBody, TextBody, ReplyTo;
 *	    comma-separated lists);
 *	    https://postmarkapp.com/developer/user-guide/send-email-with-api
 *	    (MessageStream; "John Doe <email@example.com>" addresses);
 *	    http://developer.postmarkapp.com/developer-build.html and
 *	    https://postmarkapp.com/blog/attachments-finally-here (Headers
 *	    [{Name, Value}], Attachments [{Name, Content, ContentType}]);
 *	    postmark.js Attachment type and postmark-dotnet's wiki
 *	    "Sending Inline Images" (ContentID "cid:..." for an inline
 *	    image);
 *	    https://postmarkapp.com/support/article/1180-what-does-errorcode-300-mean
 *	    (50 recipients per message, To, Cc and Bcc together; a body is
 *	    required, an attachment alone is refused; punctuation in names
 *	    quoted);
 *	    https://postmarkapp.com/updates/upcoming-changes-to-attachment-validation-action-may-be-required
 *	    (ContentType must be a MIME type, ContentID ASCII only).
 *
 *	Body.  The first text/plain and the first text/html part that are
 *	not attachments (no "attachment" disposition, no filename) are the
 *	text and HTML bodies, wherever they sit: alone, in
 *	multipart/alternative, or as the root of multipart/related (its
 *	first part: "start" is not read).  Text is converted to UTF-8 from
 *	its charset (GMime), line ends are LF, bytes that are still not
 *	UTF-8 become U+FFFD.  SendGrid's content array has text/plain
 *	first, then text/html (the order SendGrid's reference has long
 *	required; the OpenAPI text read here no longer says so); an empty
 *	body part is left out (minLength 1).  Other parts of a
 *	multipart/alternative are other renderings of the same text
 *	(text/enriched, text/calendar...) and are left out; so is the
 *	signature of multipart/signed (the provider re-builds the message:
 *	it could not verify).  Everything else is an attachment (a second
 *	text part of multipart/mixed too: the providers take one body of
 *	each kind), its content decoded and then base64-encoded
 *	(message/rfc822 as a message with CRLF line ends), its filename
 *	decoded to UTF-8 (RFC 2231 or encoded-words), "attachment-N" when
 *	it has none (both providers require one).  A part with a
 *	Content-ID that is in multipart/related or says "inline" is an
 *	inline attachment: SendGrid disposition "inline" and content_id,
 *	Postmark ContentID "cid:ID".  An attachment with no content is left
 *	out (SendGrid: minLength 1).
 *
 *	Headers.  From, Reply-To, To, Cc and Subject become the JSON
 *	fields, display names and Subject decoded to UTF-8.  Other fields
 *	are carried (SendGrid "headers" object, Postmark "Headers" array),
 *	unfolded, their value otherwise raw (still RFC 2047 encoded, as
 *	SendGrid asks; raw 8-bit that is not UTF-8 is read as ISO-8859-1),
 *	except these, dropped:
 *	  From To Cc Bcc Subject Reply-To Sender: structural, they are the
 *	    JSON fields or are made by the provider (SendGrid reserves
 *	    To From Subject Reply-To CC BCC);
 *	  Content-* MIME-Version: the provider builds the MIME structure
 *	    (SendGrid reserves Content-Type, Content-Transfer-Encoding);
 *	  Date: stamped by the provider when it sends;
 *	  DKIM-Signature DomainKey-Signature ARC-* Authentication-Results:
 *	    plume's signature would not verify on the re-built message
 *	    (SendGrid reserves dkim-signature);
 *	  Received Return-Path Resent-*: trace fields of the SMTP path,
 *	    which starts again at the provider (SendGrid reserves
 *	    received);
 *	  X-SG-ID X-SG-EID: SendGrid reserves them.
 *	Message-ID, In-Reply-To, References, List-Unsubscribe(-Post) and
 *	X-* are kept.  SendGrid's headers are an object: of a field that
 *	occurs more than once, the first is kept.
 *
 *	Recipients: see http_json.h.  For SendGrid, a to/cc/bcc name with
 *	',' or ';' (the limitations page refuses them) is left out, the
 *	address kept.  For Postmark, a name other than atoms and spaces is
 *	quoted, '"' and '\' escaped.
 * DIAGNOSTICS
 *	http_json_convert() returns NULL with one line in err: "not a MIME
 *	message", "no From header", "no recipients", "no text or HTML
 *	body (... refuses attachments alone)", "more than 1000 recipients
 *	(SendGrid's limit)" (or 50, Postmark's), "N recipients, none in To
 *	or Cc: ...".
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>
#include <jansson.h>

#include "http_json.h"

enum rcpt_class { RCPT_TO, RCPT_CC, RCPT_BCC };

struct rcpt {
	const char	*addr;		/* the envelope's */
	const char	*name;		/* from the header, or NULL */
	enum rcpt_class	 cls;
};

struct attachment {
	char	*filename;
	char	*type;			/* "image/png" */
	char	*b64;
	char	*cid;			/* inline only, without <> */
};

struct conv {
	char		*text, *html;	/* UTF-8, or NULL */
	GPtrArray	*atts;		/* of struct attachment */
};

static int initialized;

void
http_json_init(void)
{
	if (initialized++ == 0)
		g_mime_init();
}

void
http_json_shutdown(void)
{
	if (initialized > 0 && --initialized == 0)
		g_mime_shutdown();
}

/* A JSON string of s, which GMime should have made UTF-8 already. */
static json_t *
jstr(const char *s)
{
	json_t *j;
	char *v;

	if (g_utf8_validate(s, -1, NULL))
		return json_string(s);
	v = g_utf8_make_valid(s, -1);
	j = json_string(v);
	g_free(v);
	return j;
}

static void
attachment_free(void *p)
{
	struct attachment *a = p;

	g_free(a->filename);
	g_free(a->type);
	g_free(a->b64);
	g_free(a->cid);
	g_free(a);
}

/* CRLF -> LF; a CR alone stays. */
static char *
unix_lines(const char *s)
{
	char *out = g_malloc(strlen(s) + 1), *o = out;

	for (; *s != '\0'; s++)
		if (!(s[0] == '\r' && s[1] == '\n'))
			*o++ = *s;
	*o = '\0';
	return out;
}

static bool
is_text(GMimeObject *obj, const char *subtype)
{
	return g_mime_content_type_is_type(g_mime_object_get_content_type(obj),
	    "text", subtype);
}

static bool
is_attachment(GMimeObject *obj)
{
	const char *disp = g_mime_object_get_disposition(obj);

	if (disp != NULL && g_ascii_strcasecmp(disp, "attachment") == 0)
		return true;
	return GMIME_IS_PART(obj) &&
	    g_mime_part_get_filename(GMIME_PART(obj)) != NULL;
}

/* The decoded content of a leaf, or a message/rfc822 as it is. */
static GByteArray *
content_bytes(GMimeObject *obj)
{
	GMimeStream *mem = g_mime_stream_mem_new();
	GByteArray *ba, *copy;

	if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *m = g_mime_message_part_get_message(
		    GMIME_MESSAGE_PART(obj));
		GMimeFormatOptions *fo = g_mime_format_options_new();

		/* a message, as a message is mailed: CRLF */
		g_mime_format_options_set_newline_format(fo,
		    GMIME_NEWLINE_FORMAT_DOS);
		if (m != NULL)
			g_mime_object_write_to_stream(GMIME_OBJECT(m), fo, mem);
		g_mime_format_options_free(fo);
	} else {
		GMimeDataWrapper *dw = g_mime_part_get_content(GMIME_PART(obj));

		if (dw != NULL)
			g_mime_data_wrapper_write_to_stream(dw, mem);
	}
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	copy = g_byte_array_sized_new(ba->len);
	g_byte_array_append(copy, ba->data, ba->len);
	g_object_unref(mem);
	return copy;
}

static void
add_attachment(struct conv *c, GMimeObject *obj, bool in_related)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	const char *name = NULL, *disp, *cid;
	struct attachment *a;
	GByteArray *ba;
	char *type;

	ba = content_bytes(obj);
	if (ba->len == 0) {
		g_byte_array_free(ba, TRUE);
		return;
	}
	a = g_new0(struct attachment, 1);
	a->b64 = g_base64_encode(ba->data, ba->len);
	g_byte_array_free(ba, TRUE);
	type = g_mime_content_type_get_mime_type(ct);
	a->type = g_ascii_strdown(type, -1);
	g_free(type);
	if (GMIME_IS_PART(obj))
		name = g_mime_part_get_filename(GMIME_PART(obj));
	else
		name = g_mime_object_get_content_disposition_parameter(obj,
		    "filename");
	if (name != NULL && *name != '\0')
		a->filename = g_strdup(name);
	else
		a->filename = g_strdup_printf("attachment-%u%s",
		    c->atts->len + 1,
		    GMIME_IS_MESSAGE_PART(obj) ? ".eml" :
		    is_text(obj, "plain") ? ".txt" :
		    is_text(obj, "html") ? ".html" : "");
	disp = g_mime_object_get_disposition(obj);
	cid = g_mime_object_get_content_id(obj);
	if (cid != NULL && *cid != '\0' && (in_related || (disp != NULL &&
	    g_ascii_strcasecmp(disp, "inline") == 0)))
		a->cid = g_strdup(cid);
	g_ptr_array_add(c->atts, a);
}

/*
 * Sorts the parts into bodies and attachments.  in_alt: a part of
 * multipart/alternative (another rendering is dropped, not attached);
 * in_related: a part of multipart/related other than its root.
 */
static void
walk(struct conv *c, GMimeObject *obj, bool in_alt, bool in_related)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);

	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int n = g_mime_multipart_get_count(mp);
		const char *sub = g_mime_content_type_get_media_subtype(ct);

		if (GMIME_IS_MULTIPART_SIGNED(obj))
			n = n > 0 ? 1 : 0;
		for (int i = 0; i < n; i++) {
			GMimeObject *child = g_mime_multipart_get_part(mp, i);

			if (g_ascii_strcasecmp(sub, "alternative") == 0)
				walk(c, child, true, in_related);
			else if (g_ascii_strcasecmp(sub, "related") == 0)
				walk(c, child, i == 0 && in_alt, i > 0);
			else
				walk(c, child, false, false);
		}
		return;
	}
	if (GMIME_IS_TEXT_PART(obj) && !is_attachment(obj) &&
	    (is_text(obj, "plain") || is_text(obj, "html"))) {
		char **slot = is_text(obj, "plain") ? &c->text : &c->html;
		char *raw, *text;

		if (*slot == NULL) {
			raw = g_mime_text_part_get_text(GMIME_TEXT_PART(obj));
			text = unix_lines(raw != NULL ? raw : "");
			g_free(raw);
			if (*text != '\0')
				*slot = text;
			else
				g_free(text);
			return;
		}
	}
	if (in_alt)
		return;
	if (GMIME_IS_PART(obj) || GMIME_IS_MESSAGE_PART(obj))
		add_attachment(c, obj, in_related);
}

/* Mailboxes of a list, groups opened. */
static void
flatten(InternetAddressList *l, GPtrArray *out)
{
	int n = l != NULL ? internet_address_list_length(l) : 0;

	for (int i = 0; i < n; i++) {
		InternetAddress *ia = internet_address_list_get_address(l, i);

		if (INTERNET_ADDRESS_IS_GROUP(ia))
			flatten(internet_address_group_get_members(
			    INTERNET_ADDRESS_GROUP(ia)), out);
		else if (INTERNET_ADDRESS_IS_MAILBOX(ia) &&
		    *internet_address_mailbox_get_addr(
		    INTERNET_ADDRESS_MAILBOX(ia)) != '\0')
			g_ptr_array_add(out, ia);
	}
}

static const char *
mb_addr(InternetAddress *ia)
{
	return internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
}

static const char *
mb_name(InternetAddress *ia)
{
	const char *n = internet_address_get_name(ia);

	return n != NULL && *n != '\0' ? n : NULL;
}

/* The header mailbox with this address, or NULL. */
static InternetAddress *
find_mb(GPtrArray *mbs, const char *addr)
{
	for (unsigned i = 0; i < mbs->len; i++)
		if (g_ascii_strcasecmp(mb_addr(mbs->pdata[i]), addr) == 0)
			return mbs->pdata[i];
	return NULL;
}

/*
 * Classes the envelope recipients (see http_json.h); returns how many
 * there are once duplicates are dropped, counting no further than
 * max + 1 (the search for duplicates is quadratic).  rs has env->nrcpt
 * slots; addresses point into env or into *held.
 */
static size_t
classify(GMimeMessage *m, const struct http_json_envelope *env,
    size_t max, struct rcpt *rs, GPtrArray *held)
{
	GPtrArray *to = g_ptr_array_new(), *cc = g_ptr_array_new();
	size_t n = 0;

	flatten(g_mime_message_get_addresses(m, GMIME_ADDRESS_TYPE_TO), to);
	flatten(g_mime_message_get_addresses(m, GMIME_ADDRESS_TYPE_CC), cc);
	for (size_t i = 0; i < env->nrcpt && n <= max; i++) {
		const char *a = env->rcpts[i];
		InternetAddress *ia;
		size_t j, alen = strlen(a);

		if (alen >= 2 && a[0] == '<' && a[alen - 1] == '>') {
			a = g_strndup(a + 1, alen - 2);
			g_ptr_array_add(held, (char *)a);
		}
		if (*a == '\0')
			continue;
		for (j = 0; j < n; j++)
			if (g_ascii_strcasecmp(rs[j].addr, a) == 0)
				break;
		if (j < n)
			continue;
		rs[n].addr = a;
		if ((ia = find_mb(to, a)) != NULL)
			rs[n].cls = RCPT_TO;
		else if ((ia = find_mb(cc, a)) != NULL)
			rs[n].cls = RCPT_CC;
		else
			rs[n].cls = RCPT_BCC;
		rs[n].name = ia != NULL ? mb_name(ia) : NULL;
		n++;
	}
	g_ptr_array_free(to, TRUE);
	g_ptr_array_free(cc, TRUE);
	return n;
}

static size_t
count_class(const struct rcpt *rs, size_t n, enum rcpt_class cls)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += rs[i].cls == cls;
	return k;
}

/*
 * Both providers want a "to": with no recipient in To, the Cc ones are
 * shown in To instead; with only Bcc ones, a lone one is shown in To,
 * and several need a copy each (returns true).
 */
static bool
shown_classes(struct rcpt *rs, size_t n)
{
	if (count_class(rs, n, RCPT_TO) > 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (rs[i].cls == RCPT_CC)
			rs[i].cls = RCPT_TO;
	if (count_class(rs, n, RCPT_TO) > 0)
		return false;
	if (n == 1) {
		rs[0].cls = RCPT_TO;
		return false;
	}
	return true;
}

/* Fields the providers make themselves or refuse: see the top. */
static bool
header_dropped(const char *name)
{
	static const char *const names[] = {
		"from", "to", "cc", "bcc", "subject", "reply-to", "sender",
		"mime-version", "date", "dkim-signature",
		"domainkey-signature", "authentication-results", "received",
		"return-path", "x-sg-id", "x-sg-eid",
	};
	static const char *const prefixes[] = { "content-", "resent-",
		"arc-" };

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
		if (g_ascii_strcasecmp(name, names[i]) == 0)
			return true;
	for (size_t i = 0; i < G_N_ELEMENTS(prefixes); i++)
		if (g_ascii_strncasecmp(name, prefixes[i],
		    strlen(prefixes[i])) == 0)
			return true;
	return false;
}

/* A raw field value unfolded and trimmed. */
static char *
unfold(const char *raw)
{
	char *v = g_malloc(strlen(raw) + 1), *o = v;

	for (; *raw != '\0'; raw++)
		if (*raw != '\r' && *raw != '\n')
			*o++ = *raw;
	*o = '\0';
	return g_strstrip(v);
}

/* Calls add(name, value, arg) for each field carried. */
static void
carried_headers(GMimeMessage *m, void (*add)(const char *, const char *,
    void *), void *arg)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(m));
	int n = g_mime_header_list_get_count(hl);

	for (int i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *name = g_mime_header_get_name(h);
		const char *raw = g_mime_header_get_raw_value(h);
		char *v;

		if (name == NULL || raw == NULL || header_dropped(name))
			continue;
		v = unfold(raw);
		if (!g_utf8_validate(v, -1, NULL)) {
			/* raw 8-bit: latin1 is the likeliest guess */
			char *u = g_convert(v, -1, "UTF-8", "ISO-8859-1", NULL,
			    NULL, NULL);

			if (u != NULL) {
				g_free(v);
				v = u;
			}
		}
		if (*v != '\0')
			add(name, v, arg);
		g_free(v);
	}
}

/* Sets root[key] to v, an object or array, unless v is empty. */
static void
set_unless_empty(json_t *root, const char *key, json_t *v)
{
	if (json_is_object(v) ? json_object_size(v) : json_array_size(v))
		json_object_set_new(root, key, v);
	else
		json_decref(v);
}

/* ---- SendGrid ----------------------------------------------------- */

static json_t *
sg_email(const char *addr, const char *name, bool personalization)
{
	json_t *o = json_object();

	json_object_set_new(o, "email", jstr(addr));
	/* the limitations page: no ',' or ';' in to/cc/bcc names */
	if (name != NULL && !(personalization && strpbrk(name, ",;") != NULL))
		json_object_set_new(o, "name", jstr(name));
	return o;
}

static void
sg_header(const char *name, const char *value, void *arg)
{
	json_t *hs = arg;
	const char *k;
	json_t *v;

	json_object_foreach(hs, k, v)
		if (g_ascii_strcasecmp(k, name) == 0)
			return;
	json_object_set_new(hs, name, jstr(value));
}

/*
 * One personalization for all; or, when no recipient is shown in To
 * (see shown_classes()), one each, addressed to itself alone.
 */
static json_t *
sg_personalizations(const struct rcpt *rs, size_t n, bool each)
{
	static const char *const keys[] = { "to", "cc", "bcc" };
	json_t *ps = json_array(), *p = NULL, *lists[3];

	for (size_t i = 0; i < n; i++) {
		if (p == NULL) {
			p = json_object();
			for (int k = 0; k < 3; k++)
				lists[k] = json_array();
		}
		json_array_append_new(lists[each ? RCPT_TO : rs[i].cls],
		    sg_email(rs[i].addr, rs[i].name, true));
		if (!each && i + 1 < n)
			continue;
		for (int k = 0; k < 3; k++)
			set_unless_empty(p, keys[k], lists[k]);
		json_array_append_new(ps, p);
		p = NULL;
	}
	return ps;
}

static json_t *
sendgrid(GMimeMessage *m, InternetAddress *from, GPtrArray *reply,
    const struct rcpt *rs, size_t n, bool each, const struct conv *c)
{
	json_t *root = json_object(), *a, *hs;
	const char *subject = g_mime_message_get_subject(m);

	json_object_set_new(root, "personalizations", sg_personalizations(rs,
	    n, each));
	json_object_set_new(root, "from", sg_email(mb_addr(from),
	    mb_name(from), false));
	if (reply->len == 1)
		json_object_set_new(root, "reply_to",
		    sg_email(mb_addr(reply->pdata[0]), mb_name(reply->pdata[0]),
		    false));
	else if (reply->len > 1) {
		a = json_array();
		for (unsigned i = 0; i < reply->len; i++)
			json_array_append_new(a, sg_email(
			    mb_addr(reply->pdata[i]), mb_name(reply->pdata[i]),
			    false));
		json_object_set_new(root, "reply_to_list", a);
	}
	if (subject != NULL && *subject != '\0')
		json_object_set_new(root, "subject", jstr(subject));
	a = json_array();
	if (c->text != NULL)
		json_array_append_new(a, json_pack("{s:s,s:o}", "type",
		    "text/plain", "value", jstr(c->text)));
	if (c->html != NULL)
		json_array_append_new(a, json_pack("{s:s,s:o}", "type",
		    "text/html", "value", jstr(c->html)));
	json_object_set_new(root, "content", a);
	if (c->atts->len > 0) {
		a = json_array();
		for (unsigned i = 0; i < c->atts->len; i++) {
			const struct attachment *at = c->atts->pdata[i];
			json_t *o = json_pack("{s:s,s:o,s:o,s:s}", "content",
			    at->b64, "type", jstr(at->type), "filename",
			    jstr(at->filename), "disposition",
			    at->cid != NULL ? "inline" : "attachment");

			if (at->cid != NULL)
				json_object_set_new(o, "content_id",
				    jstr(at->cid));
			json_array_append_new(a, o);
		}
		json_object_set_new(root, "attachments", a);
	}
	hs = json_object();
	carried_headers(m, sg_header, hs);
	set_unless_empty(root, "headers", hs);
	return root;
}

/* ---- Postmark ----------------------------------------------------- */

/* RFC 5322 atext, and UTF-8 (RFC 6532) */
static bool
atext(unsigned char ch)
{
	return isalnum(ch) || ch >= 0x80 || strchr("!#$%&'*+-/=?^_`{|}~",
	    ch) != NULL;
}

static void
pm_address(GString *s, const char *addr, const char *name)
{
	bool quote = false;

	if (s->len > 0)
		g_string_append(s, ", ");
	if (name == NULL) {
		g_string_append(s, addr);
		return;
	}
	for (const char *p = name; *p != '\0'; p++)
		if (!atext((unsigned char)*p) && *p != ' ')
			quote = true;
	if (quote) {
		g_string_append_c(s, '"');
		for (const char *p = name; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				g_string_append_c(s, '\\');
			g_string_append_c(s, *p);
		}
		g_string_append_c(s, '"');
	} else
		g_string_append(s, name);
	g_string_append_printf(s, " <%s>", addr);
}

static void
pm_set(json_t *root, const char *key, GString *s)
{
	if (s->len > 0)
		json_object_set_new(root, key, jstr(s->str));
	g_string_free(s, TRUE);
}

static void
pm_header(const char *name, const char *value, void *arg)
{
	json_array_append_new(arg, json_pack("{s:o,s:o}", "Name", jstr(name),
	    "Value", jstr(value)));
}

static json_t *
postmark(GMimeMessage *m, InternetAddress *from, GPtrArray *reply,
    const struct rcpt *rs, size_t n, const struct conv *c,
    const char *stream)
{
	json_t *root = json_object(), *a;
	GString *lists[3], *s;
	static const char *const keys[] = { "To", "Cc", "Bcc" };
	const char *subject = g_mime_message_get_subject(m);

	s = g_string_new(NULL);
	pm_address(s, mb_addr(from), mb_name(from));
	pm_set(root, "From", s);
	for (int k = 0; k < 3; k++)
		lists[k] = g_string_new(NULL);
	for (size_t i = 0; i < n; i++)
		pm_address(lists[rs[i].cls], rs[i].addr, rs[i].name);
	for (int k = 0; k < 3; k++)
		pm_set(root, keys[k], lists[k]);
	s = g_string_new(NULL);
	for (unsigned i = 0; i < reply->len; i++)
		pm_address(s, mb_addr(reply->pdata[i]),
		    mb_name(reply->pdata[i]));
	pm_set(root, "ReplyTo", s);
	if (subject != NULL && *subject != '\0')
		json_object_set_new(root, "Subject", jstr(subject));
	if (c->text != NULL)
		json_object_set_new(root, "TextBody", jstr(c->text));
	if (c->html != NULL)
		json_object_set_new(root, "HtmlBody", jstr(c->html));
	a = json_array();
	carried_headers(m, pm_header, a);
	set_unless_empty(root, "Headers", a);
	if (c->atts->len > 0) {
		a = json_array();
		for (unsigned i = 0; i < c->atts->len; i++) {
			const struct attachment *at = c->atts->pdata[i];
			json_t *o = json_pack("{s:o,s:s,s:o}", "Name",
			    jstr(at->filename), "Content", at->b64,
			    "ContentType", jstr(at->type));

			if (at->cid != NULL) {
				char *cid = g_strconcat("cid:", at->cid, NULL);

				json_object_set_new(o, "ContentID", jstr(cid));
				g_free(cid);
			}
			json_array_append_new(a, o);
		}
		json_object_set_new(root, "Attachments", a);
	}
	if (stream != NULL && *stream != '\0')
		json_object_set_new(root, "MessageStream", jstr(stream));
	return root;
}

/* ---- the conversion ------------------------------------------------ */

static GMimeMessage *
parse(const void *msg, size_t len)
{
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(msg, len);
	GMimeParser *p = g_mime_parser_new_with_stream(st);
	GMimeMessage *m;

	g_mime_parser_set_format(p, GMIME_FORMAT_MESSAGE);
	m = g_mime_parser_construct_message(p, NULL);
	g_object_unref(p);
	g_object_unref(st);
	return m;
}

char *
http_json_convert(enum http_json_provider provider,
    const struct http_json_envelope *env, const void *msg, size_t len,
    char *err, size_t errlen)
{
	const char *pname = provider == HTTP_JSON_SENDGRID ? "SendGrid" :
	    "Postmark";
	size_t max = provider == HTTP_JSON_SENDGRID ?
	    HTTP_JSON_SENDGRID_MAX_RCPT : HTTP_JSON_POSTMARK_MAX_RCPT;
	struct conv c = { NULL, NULL, NULL };
	GPtrArray *froms = NULL, *reply = NULL, *held = NULL;
	struct rcpt *rs = NULL;
	GMimeMessage *m;
	json_t *root = NULL;
	char *out = NULL;
	bool each;
	size_t n;

	if (!initialized)
		http_json_init();
	if (len == 0 || (m = parse(msg, len)) == NULL) {
		snprintf(err, errlen, "not a MIME message");
		return NULL;
	}
	froms = g_ptr_array_new();
	reply = g_ptr_array_new();
	held = g_ptr_array_new_with_free_func(g_free);
	flatten(g_mime_message_get_from(m), froms);
	flatten(g_mime_message_get_reply_to(m), reply);
	if (froms->len == 0) {
		snprintf(err, errlen, "no From header");
		goto out;
	}
	rs = g_new0(struct rcpt, env->nrcpt + 1);
	n = classify(m, env, max, rs, held);
	if (n == 0) {
		snprintf(err, errlen, "no recipients");
		goto out;
	}
	if (n > max) {
		snprintf(err, errlen, "more than %zu recipients (%s's limit)",
		    max, pname);
		goto out;
	}
	each = shown_classes(rs, n);
	if (each && provider == HTTP_JSON_POSTMARK) {
		snprintf(err, errlen, "%zu recipients, none in To or Cc: "
		    "Postmark would show them one another; convert once per "
		    "recipient", n);
		goto out;
	}
	c.atts = g_ptr_array_new_with_free_func(attachment_free);
	if (g_mime_message_get_mime_part(m) != NULL)
		walk(&c, g_mime_message_get_mime_part(m), false, false);
	if (c.text == NULL && c.html == NULL) {
		snprintf(err, errlen, "no text or HTML body (%s refuses "
		    "attachments alone)", pname);
		goto out;
	}
	if (provider == HTTP_JSON_SENDGRID)
		root = sendgrid(m, froms->pdata[0], reply, rs, n, each, &c);
	else
		root = postmark(m, froms->pdata[0], reply, rs, n, &c,
		    env->message_stream);
	out = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (out == NULL)
		snprintf(err, errlen, "out of memory");
out:
	json_decref(root);
	g_free(c.text);
	g_free(c.html);
	if (c.atts != NULL)
		g_ptr_array_free(c.atts, TRUE);
	g_free(rs);
	g_ptr_array_free(froms, TRUE);
	g_ptr_array_free(reply, TRUE);
	g_ptr_array_free(held, TRUE);
	g_object_unref(m);
	return out;
}
