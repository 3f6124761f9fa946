/*
 * NAME
 *	smtp_conn.h - a TCP connection, optionally TLS, with buffered
 *	I/O and deadlines on the monotonic clock
 */
#ifndef SMTP_CONN_H
#define SMTP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/ssl.h>

struct smtp_tls_opts {
	const char *ca_file;
	const char *ca_dir;
	const char *cert_file;
	const char *key_file;
	const char *fingerprint;	/* SHA-256 pin, hex with or without ':' */
	bool	 probe;			/* plume doctor: never refuse the
					   certificate, judge it with
					   conn_tls_info() */
};

/* What a probe shows of the TLS session (conn_tls_info). */
struct conn_tls_info {
	char	 subject[256];
	char	 issuer[256];
	char	 names[512];		/* subjectAltName DNS and IP names,
					   ", " between them; "" for none */
	time_t	 not_after;		/* 0: unknown */
	char	 fingerprint[65];	/* SHA-256, lower-case hex */
	bool	 pinned;		/* judged by tls_fingerprint */
	int	 verify_error;		/* X509_V_ERR_*, 0 */
	char	 verdict[256];		/* why it is (not) trusted */
};

struct smtp_conn {
	int	 fd;
	SSL_CTX	*ctx;
	SSL	*ssl;
	char	 host[256];
	char	 ip[64];		/* the address connected to */
	int	 port;
	char	 rbuf[16384];
	size_t	 rpos, rlen;
	char	*wbuf;
	size_t	 wlen, wcap;
	char	 line[4096 + 1];	/* the last line read */
	int64_t	 (*now)(void);		/* monotonic milliseconds */
	bool	 eof;
};

void	conn_init(struct smtp_conn *, int64_t (*now)(void));
/* Connects to every address of host in turn until one answers. */
int	conn_connect(struct smtp_conn *, const char *host, int port,
	    int64_t deadline, char *err, size_t errlen);
/* Connects to one address (from getaddrinfo) of host. */
struct addrinfo;
int	conn_connect_addr(struct smtp_conn *, const char *host,
	    const struct addrinfo *, int port, int64_t deadline, char *err,
	    size_t errlen);
/* TLS handshake with verification; discards whatever was read before. */
int	conn_tls(struct smtp_conn *, const struct smtp_tls_opts *,
	    int64_t deadline, char *err, size_t errlen);
void	conn_write(struct smtp_conn *, const void *, size_t);
void	conn_printf(struct smtp_conn *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	conn_flush(struct smtp_conn *, int64_t deadline, char *, size_t);
/* Reads one line (CRLF or LF stripped) into c->line; length in *len. */
int	conn_read_line(struct smtp_conn *, size_t *len, int64_t deadline,
	    char *err, size_t errlen);
bool	conn_pending(const struct smtp_conn *);
const char *conn_tls_version(const struct smtp_conn *);
const char *conn_tls_cipher(const struct smtp_conn *);
int	conn_tls_bits(const struct smtp_conn *);
/* After a handshake: the certificate, and whether it is trusted as a
   delivery would judge it (0) or not (-1, the reason in verdict). */
int	conn_tls_info(struct smtp_conn *, const struct smtp_tls_opts *,
	    struct conn_tls_info *);
void	conn_close(struct smtp_conn *);

#endif
