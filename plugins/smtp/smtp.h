/*
 * NAME
 *	smtp.h - the SMTP transport's internal types, shared by smtp.c
 *	(delivery) and smtp_probe.c ("plume doctor")
 */
#ifndef PLUGIN_SMTP_H
#define PLUGIN_SMTP_H

#include <stdbool.h>
#include <stdint.h>

#include <sasl/sasl.h>

#include <plume/plugin.h>

#include "smtp_conn.h"
#include "smtp_reply.h"

enum tls_mode { TLS_STARTTLS, TLS_IMPLICIT, TLS_NONE };

struct smtp {
	const struct plume_host *h;
	struct plume_inst *in;
	const char *host;
	int	 port;
	enum tls_mode tls;
	struct smtp_tls_opts tlso;
	const char *user;
	const char *password_file;
	const char *const *password_command;
	const char *const *auth;	/* mechanisms, or NULL: automatic */
	bool	 allow_plaintext_auth;
	bool	 auth_failure_bounce;
	int64_t	 connect_ms, command_ms, data_ms, final_ms;
	const char *helo;
};

struct session {
	struct smtp *sm;
	struct smtp_conn c;
	struct smtp_reply r;
	int64_t	 cap;			/* overall deadline, or 0 */
	bool	 pipelining, eightbit, smtputf8, dsn, starttls, size_ext;
	long long size;			/* SIZE limit, 0: none */
	char	 mechs[512];		/* AUTH mechanisms offered */
	char	 auth_used[128];
	char	 relay[400];
	bool	 dirty;			/* a transaction needs RSET */
	char	 err[1024];
	/* the reply that ended a failed session */
	struct plume_reply fail;
	char	 fail_text[2 * SMTP_REPLY_TEXT_MAX + 700];
	char	 fail_enh[16];
	bool	 fail_auth5xx;
	/* SASL secret for the callback */
	char	*secret;
	sasl_secret_t *sasl_secret;
};

/* smtp.c */
int64_t	 smtp_deadline(struct session *, int64_t timeout_ms);
/* Queues a command (without CRLF); logged unless it is secret. */
void	 smtp_cmd(struct session *, bool secret, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Flushes what is queued and reads one reply into s->r; -1 with s->err
   when no reply came. */
int	 smtp_read(struct session *, int64_t timeout_ms);
bool	 smtp_has_word(const char *list, const char *word);
/* EHLO (HELO for an old server), capabilities into the session; -1
   with the reason in s->fail_text. */
int	 smtp_ehlo(struct session *);
/* AUTH with the configured credentials; -1 with the reason (the
   server's words) in s->fail_text. */
int	 smtp_authenticate(struct session *);
void	 smtp_session_free(struct session *);

/* smtp_probe.c */
int	 smtp_probe(void *state, struct plume_probe *);

#endif
