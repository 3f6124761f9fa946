/*
 * NAME
 *	smtp_conn.c - connection layer of the SMTP transport
 * DESCRIPTION
 *	Non-blocking sockets driven by poll(2), so every read, write,
 *	connect and TLS handshake is bounded by an absolute deadline on
 *	the monotonic clock: a server that stalls can never hold plume past
 *	its timeout.
 *
 *	Connecting tries every address getaddrinfo() returns (A and AAAA),
 *	each with the time left, and reports the last error with the
 *	address tried.
 *
 *	Writes are buffered and sent in one write per command group or
 *	body chunk (Nagle and delayed ACK never stall a pipelined dialogue,
 *	as they do for a client that writes line by line).
 *
 *	TLS: OpenSSL 3, TLS 1.2 at least, peer verification always on: the
 *	chain against the system store (OpenSSL's default verify paths:
 *	the hashed directory, cheap; a bundle file only when configured)
 *	and the host name (or IP address) with SSL_set1_host; SNI is sent
 *	for names.  A SHA-256 pin, when configured, replaces the chain and
 *	name checks (for a server with a self-signed certificate): the
 *	certificate must then be exactly that one.  Whatever the server
 *	sent before the handshake is thrown away (CVE-2011-0411: commands
 *	injected into the plaintext phase must not be taken as replies in
 *	the encrypted one).
 * DIAGNOSTICS
 *	-1 with one line in err naming the peer and what failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "smtp_conn.h"

void
conn_init(struct smtp_conn *c, int64_t (*now)(void))
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->now = now;
}

static int
wait_fd(struct smtp_conn *c, short events, int64_t deadline)
{
	struct pollfd pfd = { c->fd, events, 0 };

	for (;;) {
		int64_t left = deadline - c->now();
		int rc;

		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		rc = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (rc > 0)
			return 0;
		if (rc == -1 && errno != EINTR)
			return -1;
	}
}

/*
 * After an OpenSSL call failed with SSL_get_error() e: 0 when it only
 * wants the socket readable or writable and it became so before the
 * deadline (call it again), else -1, errno ETIMEDOUT if time ran out
 * and untouched when e is no WANT_READ/WANT_WRITE.
 */
static int
ssl_wait(struct smtp_conn *c, int e, int64_t deadline)
{
	if (e == SSL_ERROR_WANT_READ)
		return wait_fd(c, POLLIN, deadline);
	if (e == SSL_ERROR_WANT_WRITE)
		return wait_fd(c, POLLOUT, deadline);
	return -1;
}

static int
connect_one(struct smtp_conn *c, const struct addrinfo *ai, int64_t deadline)
{
	int one = 1, soerr = 0;
	socklen_t sl = sizeof(soerr);

	c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, ai->ai_protocol);
	if (c->fd == -1)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return 0;
	if (errno != EINPROGRESS)
		goto fail;
	if (wait_fd(c, POLLOUT, deadline) == -1)
		goto fail;
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1)
		goto fail;
	if (soerr == 0)
		return 0;
	errno = soerr;
fail:
	soerr = errno;
	close(c->fd);
	c->fd = -1;
	errno = soerr;
	return -1;
}

int
conn_connect_addr(struct smtp_conn *c, const char *host,
    const struct addrinfo *ai, int port, int64_t deadline, char *err,
    size_t errlen)
{
	void *addr = ai->ai_family == AF_INET6 ?
	    (void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr :
	    (void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr;

	struct sockaddr_storage ss;
	struct addrinfo one = *ai;

	snprintf(c->host, sizeof(c->host), "%s", host);
	c->port = port;
	inet_ntop(ai->ai_family, addr, c->ip, sizeof(c->ip));
	/* the address as resolved, on the port asked for (a probe tries
	   other ports of the same address) */
	if (ai->ai_addrlen <= sizeof(ss)) {
		memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
		if (ss.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&ss)->sin6_port =
			    htons((uint16_t)port);
		else if (ss.ss_family == AF_INET)
			((struct sockaddr_in *)&ss)->sin_port =
			    htons((uint16_t)port);
		one.ai_addr = (struct sockaddr *)&ss;
	}
	if (connect_one(c, &one, deadline) == 0)
		return 0;
	snprintf(err, errlen, "connect to %s[%s]:%d: %s", host, c->ip, port,
	    errno == ETIMEDOUT ? "timed out" : strerror(errno));
	return -1;
}

int
conn_connect(struct smtp_conn *c, const char *host, int port,
    int64_t deadline, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	char portstr[16];
	int rc;

	snprintf(c->host, sizeof(c->host), "%s", host);
	c->port = port;
	snprintf(portstr, sizeof(portstr), "%d", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	if ((rc = getaddrinfo(host, portstr, &hints, &res)) != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", host,
		    gai_strerror(rc));
		return -1;
	}
	snprintf(err, errlen, "%s: no address", host);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (conn_connect_addr(c, host, ai, port, deadline, err,
		    errlen) == 0) {
			freeaddrinfo(res);
			return 0;
		}
		if (deadline - c->now() <= 0)
			break;
	}
	freeaddrinfo(res);
	return -1;
}

static void
ssl_error(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	if (e != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		snprintf(err, errlen, "%s: %s", what, buf);
	} else
		snprintf(err, errlen, "%s", what);
	ERR_clear_error();
}

/* Hex digits of a pin, ':' and case ignored, into out (64 chars). */
static int
pin_normalise(const char *pin, char *out)
{
	size_t n = 0;

	if (strncmp(pin, "sha256:", 7) == 0)
		pin += 7;
	for (const char *p = pin; *p != '\0'; p++) {
		if (*p == ':')
			continue;
		if (n == 64 || !((*p >= '0' && *p <= '9') ||
		    (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F')))
			return -1;
		out[n++] = (char)(*p >= 'A' && *p <= 'F' ? *p + 32 : *p);
	}
	out[n] = '\0';
	return n == 64 ? 0 : -1;
}

static int
check_pin(SSL *ssl, const char *pin, char *err, size_t errlen)
{
	X509 *cert = SSL_get1_peer_certificate(ssl);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char want[65], got[65];

	if (pin_normalise(pin, want) == -1) {
		snprintf(err, errlen, "tls_fingerprint must be a SHA-256 "
		    "fingerprint: 64 hex digits");
		X509_free(cert);
		return -1;
	}
	if (cert == NULL || X509_digest(cert, EVP_sha256(), md, &mdlen) != 1) {
		snprintf(err, errlen, "server sent no certificate");
		X509_free(cert);
		return -1;
	}
	X509_free(cert);
	for (unsigned int i = 0; i < mdlen && i < 32; i++)
		snprintf(got + 2 * i, 3, "%02x", md[i]);
	if (strcmp(want, got) != 0) {
		snprintf(err, errlen, "certificate fingerprint sha256:%s does "
		    "not match tls_fingerprint", got);
		return -1;
	}
	return 0;
}

int
conn_tls(struct smtp_conn *c, const struct smtp_tls_opts *o,
    int64_t deadline, char *err, size_t errlen)
{
	struct in6_addr a6;
	struct in_addr a4;
	bool is_ip = inet_pton(AF_INET, c->host, &a4) == 1 ||
	    inet_pton(AF_INET6, c->host, &a6) == 1;
	long vr;

	c->rpos = c->rlen = 0;		/* CVE-2011-0411 */
	if ((c->ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		ssl_error(err, errlen, "cannot create TLS context");
		return -1;
	}
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
	if (o->fingerprint == NULL) {
		SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
		if (o->ca_file != NULL || o->ca_dir != NULL) {
			if (SSL_CTX_load_verify_locations(c->ctx, o->ca_file,
			    o->ca_dir) != 1) {
				ssl_error(err, errlen, "cannot load tls_ca_file/"
				    "tls_ca_dir");
				return -1;
			}
		} else if (SSL_CTX_set_default_verify_paths(c->ctx) != 1) {
			ssl_error(err, errlen, "cannot load the system's "
			    "trusted certificates");
			return -1;
		}
	} else
		SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
	/* a probe looks at what the server shows and judges afterwards
	   (conn_tls_info): the chain is verified all the same, only a
	   failure does not end the handshake */
	if (o->probe)
		SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
	if (o->cert_file != NULL &&
	    (SSL_CTX_use_certificate_chain_file(c->ctx, o->cert_file) != 1 ||
	    SSL_CTX_use_PrivateKey_file(c->ctx, o->key_file ? o->key_file :
	    o->cert_file, SSL_FILETYPE_PEM) != 1)) {
		ssl_error(err, errlen, "cannot load tls_cert_file/tls_key_file");
		return -1;
	}
	if ((c->ssl = SSL_new(c->ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1) {
		ssl_error(err, errlen, "cannot start TLS");
		return -1;
	}
	if (!is_ip)
		SSL_set_tlsext_host_name(c->ssl, c->host);
	if (o->fingerprint == NULL) {
		if (is_ip) {
			X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);

			X509_VERIFY_PARAM_set1_ip_asc(vp, c->host);
		} else
			SSL_set1_host(c->ssl, c->host);
	}
	for (;;) {
		int rc = SSL_connect(c->ssl), e;

		if (rc == 1)
			break;
		e = SSL_get_error(c->ssl, rc);
		if (ssl_wait(c, e, deadline) == 0)
			continue;
		if (errno == ETIMEDOUT &&
		    (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)) {
			snprintf(err, errlen, "TLS handshake with %s[%s]:%d "
			    "timed out", c->host, c->ip, c->port);
			return -1;
		}
		vr = SSL_get_verify_result(c->ssl);
		if (vr != X509_V_OK) {
			snprintf(err, errlen, "TLS certificate of %s[%s]:%d "
			    "not trusted: %s", c->host, c->ip, c->port,
			    X509_verify_cert_error_string(vr));
			ERR_clear_error();
			return -1;
		}
		ssl_error(err, errlen, "TLS handshake failed");
		return -1;
	}
	if (o->fingerprint != NULL && !o->probe && check_pin(c->ssl,
	    o->fingerprint, err, errlen) == -1)
		return -1;
	c->rpos = c->rlen = 0;
	return 0;
}

void
conn_write(struct smtp_conn *c, const void *p, size_t n)
{
	if (c->wlen + n > c->wcap) {
		size_t cap = c->wcap ? c->wcap : 4096;
		char *w;

		while (cap < c->wlen + n)
			cap *= 2;
		if ((w = realloc(c->wbuf, cap)) == NULL)
			abort();	/* as plume's own allocators do */
		c->wbuf = w;
		c->wcap = cap;
	}
	memcpy(c->wbuf + c->wlen, p, n);
	c->wlen += n;
}

void
conn_printf(struct smtp_conn *c, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		conn_write(c, buf, (size_t)n < sizeof(buf) ? (size_t)n :
		    sizeof(buf) - 1);
}

int
conn_flush(struct smtp_conn *c, int64_t deadline, char *err, size_t errlen)
{
	size_t off = 0;

	while (off < c->wlen) {
		ssize_t w;

		if (c->ssl != NULL) {
			int rc = SSL_write(c->ssl, c->wbuf + off,
			    (int)(c->wlen - off > 1 << 30 ? 1 << 30 :
			    c->wlen - off)), e;

			if (rc > 0) {
				off += (size_t)rc;
				continue;
			}
			e = SSL_get_error(c->ssl, rc);
			if (ssl_wait(c, e, deadline) == 0)
				continue;
			goto fail;
		}
		w = send(c->fd, c->wbuf + off, c->wlen - off, MSG_NOSIGNAL);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w == -1 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_fd(c, POLLOUT, deadline) == 0)
				continue;
		}
		goto fail;
	}
	c->wlen = 0;
	return 0;
fail:
	snprintf(err, errlen, "lost connection with %s[%s] while sending: %s",
	    c->host, c->ip, errno == ETIMEDOUT ? "timed out" :
	    errno != 0 ? strerror(errno) : "TLS error");
	ERR_clear_error();
	c->wlen = 0;
	return -1;
}

/* Fills the read buffer; 0 ok, -1 error or end of file. */
static int
fill(struct smtp_conn *c, int64_t deadline)
{
	if (c->rpos > 0) {
		memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
		c->rlen -= c->rpos;
		c->rpos = 0;
	}
	for (;;) {
		ssize_t r;

		errno = 0;
		if (c->ssl != NULL) {
			int rc = SSL_read(c->ssl, c->rbuf + c->rlen,
			    (int)(sizeof(c->rbuf) - c->rlen)), e;

			if (rc > 0) {
				c->rlen += (size_t)rc;
				return 0;
			}
			e = SSL_get_error(c->ssl, rc);
			if (ssl_wait(c, e, deadline) == 0)
				continue;
			if (e == SSL_ERROR_ZERO_RETURN ||
			    (e == SSL_ERROR_SYSCALL && errno == 0))
				c->eof = true;
			ERR_clear_error();
			return -1;
		}
		r = recv(c->fd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen,
		    0);
		if (r > 0) {
			c->rlen += (size_t)r;
			return 0;
		}
		if (r == 0) {
			c->eof = true;
			return -1;
		}
		if (errno == EAGAIN || errno == EINTR) {
			if (wait_fd(c, POLLIN, deadline) == 0)
				continue;
		}
		return -1;
	}
}

int
conn_read_line(struct smtp_conn *c, size_t *len, int64_t deadline,
    char *err, size_t errlen)
{
	for (;;) {
		char *nl = memchr(c->rbuf + c->rpos, '\n', c->rlen - c->rpos);

		if (nl != NULL) {
			size_t n = (size_t)(nl - (c->rbuf + c->rpos));

			if (n > sizeof(c->line) - 1)
				goto toolong;
			memcpy(c->line, c->rbuf + c->rpos, n);
			c->rpos += n + 1;
			if (n > 0 && c->line[n - 1] == '\r')
				n--;
			c->line[n] = '\0';
			*len = n;
			return 0;
		}
		if (c->rlen - c->rpos > sizeof(c->line) - 1)
			goto toolong;
		if (fill(c, deadline) == -1) {
			snprintf(err, errlen, "%s with %s[%s]:%d%s%s",
			    c->eof ? "connection closed by server" :
			    errno == ETIMEDOUT ? "timed out waiting for a reply" :
			    "lost connection", c->host, c->ip, c->port,
			    !c->eof && errno != ETIMEDOUT && errno ? ": " : "",
			    !c->eof && errno != ETIMEDOUT && errno ?
			    strerror(errno) : "");
			return -1;
		}
	}
toolong:
	snprintf(err, errlen, "%s[%s]:%d sent a line longer than %zu bytes",
	    c->host, c->ip, c->port, sizeof(c->line) - 1);
	return -1;
}

bool
conn_pending(const struct smtp_conn *c)
{
	return c->rpos < c->rlen;
}

const char *
conn_tls_version(const struct smtp_conn *c)
{
	return c->ssl != NULL ? SSL_get_version(c->ssl) : NULL;
}

const char *
conn_tls_cipher(const struct smtp_conn *c)
{
	return c->ssl != NULL ? SSL_get_cipher_name(c->ssl) : NULL;
}

int
conn_tls_bits(const struct smtp_conn *c)
{
	return c->ssl != NULL ? SSL_get_cipher_bits(c->ssl, NULL) : 0;
}

static void
name_of(X509_NAME *n, char *buf, size_t len)
{
	BIO *b = BIO_new(BIO_s_mem());
	int k;

	buf[0] = '\0';
	if (b == NULL)
		return;
	X509_NAME_print_ex(b, n, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
	k = BIO_read(b, buf, (int)len - 1);
	buf[k > 0 ? k : 0] = '\0';
	BIO_free(b);
}

/* The DNS names and IP addresses a certificate is for (what host name
   verification compares host = with), for the remedy when it fails. */
static void
alt_names(X509 *cert, char *buf, size_t len)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name,
	    NULL, NULL);
	size_t k = 0;

	buf[0] = '\0';
	for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens) &&
	    k < len; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		char ip[INET6_ADDRSTRLEN] = "";
		const unsigned char *d;
		int n;

		if (g->type == GEN_DNS) {
			d = ASN1_STRING_get0_data(g->d.dNSName);
			n = ASN1_STRING_length(g->d.dNSName);
			k += (size_t)snprintf(buf + k, len - k, "%s%.*s",
			    k ? ", " : "", n, (const char *)d);
		} else if (g->type == GEN_IPADD) {
			d = ASN1_STRING_get0_data(g->d.iPAddress);
			n = ASN1_STRING_length(g->d.iPAddress);
			if (n == 4 || n == 16)
				inet_ntop(n == 4 ? AF_INET : AF_INET6, d, ip,
				    sizeof(ip));
			if (ip[0] != '\0')
				k += (size_t)snprintf(buf + k, len - k, "%s%s",
				    k ? ", " : "", ip);
		}
	}
	GENERAL_NAMES_free(gens);
}

int
conn_tls_info(struct smtp_conn *c, const struct smtp_tls_opts *o,
    struct conn_tls_info *t)
{
	X509 *cert;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	const ASN1_TIME *na;
	struct tm tm;
	long vr;

	memset(t, 0, sizeof(*t));
	if (c->ssl == NULL || (cert = SSL_get1_peer_certificate(c->ssl)) ==
	    NULL) {
		snprintf(t->verdict, sizeof(t->verdict), "the server sent no "
		    "certificate");
		return -1;
	}
	name_of(X509_get_subject_name(cert), t->subject, sizeof(t->subject));
	name_of(X509_get_issuer_name(cert), t->issuer, sizeof(t->issuer));
	alt_names(cert, t->names, sizeof(t->names));
	if ((na = X509_get0_notAfter(cert)) != NULL &&
	    ASN1_TIME_to_tm(na, &tm) == 1)
		t->not_after = timegm(&tm);
	if (X509_digest(cert, EVP_sha256(), md, &mdlen) == 1)
		for (unsigned int i = 0; i < mdlen && i < 32; i++)
			snprintf(t->fingerprint + 2 * i, 3, "%02x", md[i]);
	X509_free(cert);
	if (o->fingerprint != NULL) {
		char err[256];

		t->pinned = true;
		if (check_pin(c->ssl, o->fingerprint, err, sizeof(err)) == -1) {
			snprintf(t->verdict, sizeof(t->verdict), "%s", err);
			return -1;
		}
		snprintf(t->verdict, sizeof(t->verdict), "matches "
		    "tls_fingerprint");
		return 0;
	}
	vr = SSL_get_verify_result(c->ssl);
	if (vr != X509_V_OK) {
		snprintf(t->verdict, sizeof(t->verdict), "%s",
		    X509_verify_cert_error_string(vr));
		t->verify_error = (int)vr;
		return -1;
	}
	snprintf(t->verdict, sizeof(t->verdict), "chain and name verified");
	return 0;
}

void
conn_close(struct smtp_conn *c)
{
	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	if (c->ctx != NULL)
		SSL_CTX_free(c->ctx);
	if (c->fd != -1)
		close(c->fd);
	free(c->wbuf);
	c->ssl = NULL;
	c->ctx = NULL;
	c->fd = -1;
	c->wbuf = NULL;
	c->wlen = c->wcap = 0;
	c->rpos = c->rlen = 0;
}
