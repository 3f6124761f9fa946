/*
 * NAME
 *	dkim_key.h - DKIM private keys: loading, signing, generating,
 *	public key records
 * SYNOPSIS
 *	#include "dkim_key.h"
 * DESCRIPTION
 *	See dkim_key.c.
 */
#ifndef DKIM_KEY_H
#define DKIM_KEY_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#define DKIM_RSA_MIN_BITS	1024	/* RFC 8301: never fewer */
#define DKIM_RSA_WARN_BITS	2048	/* RFC 8301: SHOULD be at least */
#define DKIM_RSA_MAX_BITS	4096	/* what verifiers must handle */

enum dkim_alg {
	DKIM_ALG_RSA_SHA256 = 0,
	DKIM_ALG_ED25519_SHA256 = 1,
};

struct dkim_key {
	EVP_PKEY *pkey;
	enum dkim_alg alg;
	int	 bits;		/* RSA modulus; 256 for Ed25519 */
	char	*path;		/* the file it came from, or NULL */
	char	*selector;	/* s=, set by the caller */
};

struct dkim_key *dkim_key_load(const char *, char *, size_t);
struct dkim_key *dkim_key_generate(enum dkim_alg, int, char *, size_t);
int	 dkim_key_write(const struct dkim_key *, const char *, char *, size_t);
void	 dkim_key_free(struct dkim_key *);

int	 dkim_key_sign(const struct dkim_key *, const unsigned char *, size_t,
	    unsigned char **, size_t *, char *, size_t);

const char *dkim_alg_name(enum dkim_alg);
const char *dkim_key_kind(const struct dkim_key *);
char	*dkim_key_public(const struct dkim_key *);
char	*dkim_key_record(const struct dkim_key *);
bool	 dkim_key_matches(const struct dkim_key *, const unsigned char *,
	    size_t);

#endif /* DKIM_KEY_H */
