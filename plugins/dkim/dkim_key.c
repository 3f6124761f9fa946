/*
 * NAME
 *	dkim_key.c - DKIM private keys: loading, signing, generating,
 *	public key records
 * SYNOPSIS
 *	struct dkim_key *dkim_key_load(path, err, errlen)
 *	struct dkim_key *dkim_key_generate(alg, bits, err, errlen)
 *	int dkim_key_write(key, path, err, errlen)
 *	void dkim_key_free(key)
 *
 *	int dkim_key_sign(key, digest, len, sig_r, siglen_r, err, errlen)
 *
 *	const char *dkim_alg_name(alg)
 *	const char *dkim_key_kind(key)
 *	char *dkim_key_public(key)
 *	char *dkim_key_record(key)
 *	bool dkim_key_matches(key, p, len)
 * DESCRIPTION
 *	Key files hold a PEM private key, PKCS#1 ("RSA PRIVATE KEY") or
 *	PKCS#8 ("PRIVATE KEY", RSA or Ed25519), or the base64 text of a
 *	32-octet Ed25519 seed, as RFC 8463 prints its example key.  The
 *	algorithm follows the key: rsa-sha256 for RSA of 1024 to 4096 bits
 *	(RFC 8301; callers warn under 2048), ed25519-sha256 for Ed25519.
 *	rsa-sha1 is never used.  Encrypted keys and any other type are
 *	refused with a message saying what to do.
 *
 *	A key file must be a regular file, is opened without following a
 *	symbolic link, and is refused when others than its owner and group
 *	may read or write it: the group is plume's, the owner root or the
 *	admin.  Its bytes are wiped from memory once parsed.
 *
 *	The usual files (unencrypted PEM: PKCS#1 RSA, PKCS#8 RSA or
 *	Ed25519) are read by a small DER reader here and handed to OpenSSL
 *	as key parameters: OpenSSL 3's generic decoder enumerates every
 *	decoder and key type it has, which costs about a millisecond of
 *	CPU, and every sendmail process loads its keys once.  Anything
 *	else goes to that decoder, so no format is lost.
 *
 *	Before its first use of OpenSSL in a process, dkim_key_load() and
 *	dkim_key_generate() name HASH-DRBG over SHA-256 as the default
 *	random generator (see crypto_setup() below): RSA signing needs
 *	random numbers for blinding, and OpenSSL's own default, CTR-DRBG,
 *	costs a sendmail process about 0.36 ms of CPU to set up, nearly all
 *	of it in fetching the AES ciphers it is built on, against 0.04 ms.
 *	An OpenSSL configuration that chooses a generator ([random]) still
 *	decides.
 *
 *	dkim_key_sign() signs a SHA-256 digest of the canonical header
 *	data: RSASSA-PKCS1-v1_5 with the SHA-256 DigestInfo, or, for
 *	ed25519-sha256, PureEdDSA over the 32 digest octets themselves
 *	(RFC 8463 3: the hash is signed, not the data).
 *
 *	dkim_key_generate() makes an RSA (bits) or Ed25519 key;
 *	dkim_key_write() stores it as PKCS#8 PEM in a new file of mode
 *	0600 (O_EXCL: never over an existing one).
 *
 *	dkim_key_public() is the p= value: base64 of the DER
 *	SubjectPublicKeyInfo for RSA, of the raw 32-octet key for Ed25519
 *	(RFC 8463 4); dkim_key_record() the whole TXT record text.
 *	dkim_key_matches() says whether a published p= (decoded) is this
 *	key's public half; for RSA both SubjectPublicKeyInfo and a bare
 *	PKCS#1 RSAPublicKey are understood.
 * DIAGNOSTICS
 *	NULL or -1 with one line in err.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "b64.h"
#include "dkim_key.h"
#include "dkim_util.h"

#define KEY_FILE_MAX	65536

/* OpenSSL's reason for the last failure, its queue then emptied. */
static const char *
ossl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();

	if (e == 0)
		snprintf(buf, len, "unknown OpenSSL error");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

/*
 * Names the default DRBG, once per process, before OpenSSL reads its
 * configuration file (the first key operation makes it do so).
 *
 * HASH-DRBG over SHA-256 is an SP 800-90A generator of the same 256-bit
 * strength as OpenSSL's default CTR-DRBG over AES-256, seeded from the
 * same source, and offered by the default and the FIPS providers alike;
 * the default properties of the configuration (fips=yes) still select
 * the provider.  What it saves is CTR-DRBG's first fetch of a cipher,
 * which builds OpenSSL's table of every cipher: about 0.36 ms of the
 * 0.40 ms a process spends setting up its generator, paid by any
 * process that signs with RSA (blinding draws random numbers).
 *
 * Because the configuration is read afterwards, its [random] section,
 * if there is one, overrides this choice: an administrator's setting
 * always wins.  This holds when the dkim plugin is the first code to
 * use OpenSSL in the process, as with "pipeline = dkim, ..." and the
 * dkim commands; if a plugin started earlier has already read the
 * configuration, a [random] section it set would be replaced for this
 * process by another approved generator.  Once a generator is in use,
 * OpenSSL refuses the call, which is harmless and ignored.
 */
static void
crypto_setup(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	if (RAND_set_DRBG_type(NULL, "HASH-DRBG", NULL, NULL, "SHA256") != 1)
		ERR_clear_error();
}

static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

/* Reads a key file whole, after checking who may read it. */
static unsigned char *
read_key_file(const char *path, size_t *len_r, char *err, size_t errlen)
{
	unsigned char *buf;
	struct stat st;
	size_t have = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		snprintf(err, errlen, "cannot open key file %s: %s%s", path,
		    strerror(errno), errno == ELOOP ? " (a symbolic link: "
		    "name the file itself)" : "");
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "key file %s is not a regular file",
		    path);
		close(fd);
		return NULL;
	}
	if (st.st_mode & (S_IROTH | S_IWOTH)) {
		snprintf(err, errlen, "key file %s is %s by others than its "
		    "owner and group: a private key everyone can read is no "
		    "secret (run chmod o-rw %s)", path,
		    (st.st_mode & S_IROTH) ? "readable" : "writable", path);
		close(fd);
		return NULL;
	}
	if (st.st_size > KEY_FILE_MAX) {
		snprintf(err, errlen, "key file %s is too large to be a key",
		    path);
		close(fd);
		return NULL;
	}
	if ((buf = malloc(KEY_FILE_MAX + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		close(fd);
		return NULL;
	}
	while (have < KEY_FILE_MAX) {
		n = read(fd, buf + have, KEY_FILE_MAX - have);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "cannot read key file %s: %s",
			    path, strerror(errno));
			close(fd);
			OPENSSL_cleanse(buf, KEY_FILE_MAX + 1);
			free(buf);
			return NULL;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	close(fd);
	buf[have] = '\0';
	*len_r = have;
	return buf;
}

/* ---- the usual key files, without OpenSSL's decoder ------------------ */

struct der {
	const unsigned char *p, *end;
};

/* Takes the next element, which must have the tag, into v. */
static int
der_get(struct der *d, unsigned char tag, struct der *v)
{
	const unsigned char *p = d->p;
	size_t len = 0;

	if (d->end - p < 2 || *p++ != tag)
		return -1;
	if (*p < 0x80)
		len = *p++;
	else {
		int n = *p++ & 0x7f;

		if (n == 0 || n > 3 || d->end - p < n)
			return -1;
		while (n-- > 0)
			len = len << 8 | *p++;
	}
	if ((size_t)(d->end - p) < len)
		return -1;
	v->p = p;
	v->end = p + len;
	d->p = p + len;
	return 0;
}

static bool
der_is(const struct der *d, const unsigned char *want, size_t n)
{
	return (size_t)(d->end - d->p) == n && memcmp(d->p, want, n) == 0;
}

/* RFC 8017 A.1.2 RSAPrivateKey (two primes) to an EVP_PKEY. */
static EVP_PKEY *
rsa_from_der(struct der d)
{
	static const char *const names[8] = {
		OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E,
		OSSL_PKEY_PARAM_RSA_D, OSSL_PKEY_PARAM_RSA_FACTOR1,
		OSSL_PKEY_PARAM_RSA_FACTOR2, OSSL_PKEY_PARAM_RSA_EXPONENT1,
		OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
	};
	static const unsigned char v0[] = { 0 };
	struct der seq, num;
	BIGNUM *bn[8] = { NULL };
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	int i;

	if (der_get(&d, 0x30, &seq) == -1 || d.p != d.end ||
	    der_get(&seq, 0x02, &num) == -1 || !der_is(&num, v0, 1))
		return NULL;
	for (i = 0; i < 8; i++) {
		if (der_get(&seq, 0x02, &num) == -1 || num.p == num.end ||
		    (*num.p & 0x80) != 0)
			goto out;	/* missing, or negative */
		/* all but n and e are secret: OpenSSL wipes them */
		bn[i] = i < 2 ? BN_new() : BN_secure_new();
		if (bn[i] == NULL || BN_bin2bn(num.p, (int)(num.end - num.p),
		    bn[i]) == NULL)
			goto out;
	}
	if (seq.p != seq.end || (bld = OSSL_PARAM_BLD_new()) == NULL)
		goto out;
	for (i = 0; i < 8; i++)
		if (!OSSL_PARAM_BLD_push_BN(bld, names[i], bn[i]))
			goto out;
	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params) <= 0)
		pkey = NULL;
out:
	for (i = 0; i < 8; i++)
		BN_clear_free(bn[i]);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return pkey;
}

/* RFC 5958 OneAsymmetricKey (PKCS#8) of RSA or Ed25519 (RFC 8410 7). */
static EVP_PKEY *
pkcs8_from_der(struct der d)
{
	static const unsigned char rsa_oid[] = { 0x2a, 0x86, 0x48, 0x86,
	    0xf7, 0x0d, 0x01, 0x01, 0x01 };
	static const unsigned char ed_oid[] = { 0x2b, 0x65, 0x70 };
	struct der seq, ver, alg, oid, key, seed;
	EVP_PKEY *pkey;

	if (der_get(&d, 0x30, &seq) == -1 || d.p != d.end ||
	    der_get(&seq, 0x02, &ver) == -1 || ver.end - ver.p != 1 ||
	    *ver.p > 1 || der_get(&seq, 0x30, &alg) == -1 ||
	    der_get(&alg, 0x06, &oid) == -1 || der_get(&seq, 0x04, &key) == -1)
		return NULL;
	if (der_is(&oid, rsa_oid, sizeof(rsa_oid)))
		return rsa_from_der(key);
	if (!der_is(&oid, ed_oid, sizeof(ed_oid)) || alg.p != alg.end ||
	    der_get(&key, 0x04, &seed) == -1 || key.p != key.end ||
	    seed.end - seed.p != 32)
		return NULL;
	pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed.p,
	    32);
	ERR_clear_error();
	return pkey;
}

/*
 * An unencrypted PEM file of one of the usual kinds, read here; NULL
 * for anything else, which the caller gives OpenSSL's decoder.
 */
static EVP_PKEY *
parse_pem_fast(const unsigned char *text)
{
	static const struct {
		const char *label;
		bool pkcs8;
	} kinds[] = {
		{ "-----BEGIN PRIVATE KEY-----", true },
		{ "-----BEGIN RSA PRIVATE KEY-----", false },
	};
	const char *t = (const char *)text, *b = NULL, *e;
	unsigned char *der;
	size_t n = 0;
	bool pkcs8 = false;
	EVP_PKEY *pkey;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if ((b = strstr(t, kinds[i].label)) != NULL) {
			b += strlen(kinds[i].label);
			pkcs8 = kinds[i].pkcs8;
			break;
		}
	/* one block only, and no headers (Proc-Type: encryption) */
	if (b == NULL || (e = strstr(b, "-----END ")) == NULL ||
	    memchr(b, ':', (size_t)(e - b)) != NULL ||
	    strstr(e + 9, "-----BEGIN") != NULL)
		return NULL;
	if ((der = dkim_b64_decode(b, (size_t)(e - b), &n)) == NULL)
		return NULL;
	pkey = pkcs8 ? pkcs8_from_der((struct der){ der, der + n }) :
	    rsa_from_der((struct der){ der, der + n });
	OPENSSL_cleanse(der, n);
	free(der);
	return pkey;
}

static EVP_PKEY *
parse_pem(const unsigned char *text, size_t len, const char *path, char *err,
    size_t errlen)
{
	char why[256];
	EVP_PKEY *pkey;
	BIO *bio;

	if (strstr((const char *)text, "ENCRYPTED") != NULL) {
		snprintf(err, errlen, "key file %s is encrypted: plume needs "
		    "it without a passphrase (openssl pkey -in %s -out NEW, "
		    "then chmod 640 NEW)", path, path);
		return NULL;
	}
	if ((pkey = parse_pem_fast(text)) != NULL)
		return pkey;
	if ((bio = BIO_new_mem_buf(text, (int)len)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	if (pkey == NULL)
		snprintf(err, errlen, "key file %s holds no private key that "
		    "OpenSSL can read (%s)", path, ossl_reason(why,
		    sizeof(why)));
	return pkey;
}

/* The base64 text of a 32-octet Ed25519 seed (RFC 8463 A.1). */
static EVP_PKEY *
parse_seed(const unsigned char *text, size_t len, const char *path,
    char *err, size_t errlen)
{
	unsigned char *seed;
	size_t n = 0;
	EVP_PKEY *pkey = NULL;
	char why[256];

	seed = dkim_b64_decode((const char *)text, len, &n);
	if (seed == NULL || n != 32) {
		snprintf(err, errlen, "key file %s is neither PEM (PKCS#1 or "
		    "PKCS#8) nor the base64 text of a 32-octet Ed25519 seed",
		    path);
		goto out;
	}
	if ((pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed,
	    n)) == NULL)
		snprintf(err, errlen, "key file %s: %s", path,
		    ossl_reason(why, sizeof(why)));
out:
	if (seed != NULL) {
		OPENSSL_cleanse(seed, n);
		free(seed);
	}
	return pkey;
}

/* Takes a key whose type DKIM can use, or refuses it. */
static struct dkim_key *
key_adopt(EVP_PKEY *pkey, const char *path, char *err, size_t errlen)
{
	struct dkim_key *k;
	int id = EVP_PKEY_get_base_id(pkey), bits = EVP_PKEY_get_bits(pkey);
	const char *what = path != NULL ? path : "the key";

	if (id == EVP_PKEY_RSA) {
		if (bits < DKIM_RSA_MIN_BITS || bits > DKIM_RSA_MAX_BITS) {
			snprintf(err, errlen, "%s is an RSA key of %d bits: "
			    "DKIM needs %d to %d (RFC 8301; 2048 is usual)",
			    what, bits, DKIM_RSA_MIN_BITS, DKIM_RSA_MAX_BITS);
			EVP_PKEY_free(pkey);
			return NULL;
		}
	} else if (id != EVP_PKEY_ED25519) {
		snprintf(err, errlen, "%s is a %s key: DKIM signs with RSA "
		    "(rsa-sha256) or Ed25519 (ed25519-sha256) only", what,
		    OBJ_nid2sn(id) != NULL ? OBJ_nid2sn(id) : "foreign");
		EVP_PKEY_free(pkey);
		return NULL;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL ||
	    (path != NULL && (k->path = dkim_strdup(path)) == NULL)) {
		free(k);
		snprintf(err, errlen, "out of memory");
		EVP_PKEY_free(pkey);
		return NULL;
	}
	k->pkey = pkey;
	k->alg = id == EVP_PKEY_RSA ? DKIM_ALG_RSA_SHA256 :
	    DKIM_ALG_ED25519_SHA256;
	k->bits = bits;
	return k;
}

struct dkim_key *
dkim_key_load(const char *path, char *err, size_t errlen)
{
	unsigned char *text;
	size_t len = 0;
	EVP_PKEY *pkey;

	crypto_setup();
	if ((text = read_key_file(path, &len, err, errlen)) == NULL)
		return NULL;
	if (strstr((const char *)text, "-----BEGIN") != NULL)
		pkey = parse_pem(text, len, path, err, errlen);
	else
		pkey = parse_seed(text, len, path, err, errlen);
	OPENSSL_cleanse(text, KEY_FILE_MAX + 1);
	free(text);
	if (pkey == NULL)
		return NULL;
	return key_adopt(pkey, path, err, errlen);
}

struct dkim_key *
dkim_key_generate(enum dkim_alg alg, int bits, char *err, size_t errlen)
{
	EVP_PKEY *pkey;
	char why[256];

	crypto_setup();
	if (alg == DKIM_ALG_RSA_SHA256)
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
	else
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (pkey == NULL) {
		snprintf(err, errlen, "cannot generate the key: %s",
		    ossl_reason(why, sizeof(why)));
		return NULL;
	}
	return key_adopt(pkey, NULL, err, errlen);
}

int
dkim_key_write(const struct dkim_key *k, const char *path, char *err,
    size_t errlen)
{
	BIO *mem = BIO_new(BIO_s_secmem());
	char *data = NULL, why[256];
	long len;
	size_t off = 0;
	int fd, rc = -1;

	if (mem == NULL || !PEM_write_bio_PrivateKey(mem, k->pkey, NULL, NULL,
	    0, NULL, NULL) || (len = BIO_get_mem_data(mem, &data)) <= 0) {
		snprintf(err, errlen, "cannot encode the key: %s",
		    ossl_reason(why, sizeof(why)));
		BIO_free(mem);
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		snprintf(err, errlen, "cannot create %s: %s%s", path,
		    strerror(errno), errno == EEXIST ? " (plume never "
		    "overwrites a key: choose another name)" : "");
		BIO_free(mem);
		return -1;
	}
	/* 0600 whatever the umask; an admin may then chgrp and chmod 640 */
	if (fchmod(fd, 0600) == -1) {
		snprintf(err, errlen, "chmod %s: %s", path, strerror(errno));
		goto out;
	}
	while (off < (size_t)len) {
		ssize_t n = write(fd, data + off, (size_t)len - off);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "cannot write %s: %s", path,
			    n == 0 ? "short write" : strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd) == -1) {
		snprintf(err, errlen, "cannot write %s: %s", path,
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (close(fd) == -1 && rc == 0) {
		snprintf(err, errlen, "cannot write %s: %s", path,
		    strerror(errno));
		rc = -1;
	}
	if (rc == -1)
		unlink(path);
	BIO_free(mem);		/* a secure-memory BIO: wiped when freed */
	return rc;
}

void
dkim_key_free(struct dkim_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);	/* OpenSSL clears the private parts */
	free(k->path);
	free(k->selector);
	free(k);
}

int
dkim_key_sign(const struct dkim_key *k, const unsigned char *md, size_t mdlen,
    unsigned char **sig_r, size_t *siglen_r, char *err, size_t errlen)
{
	unsigned char *sig = NULL;
	size_t len = 0;
	char why[256];
	int ok = 0;

	if (k->alg == DKIM_ALG_RSA_SHA256) {
		EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey,
		    NULL);

		ok = pc != NULL && EVP_PKEY_sign_init(pc) > 0 &&
		    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) > 0 &&
		    EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()) > 0 &&
		    EVP_PKEY_sign(pc, NULL, &len, md, mdlen) > 0 &&
		    (sig = malloc(len)) != NULL &&
		    EVP_PKEY_sign(pc, sig, &len, md, mdlen) > 0;
		EVP_PKEY_CTX_free(pc);
	} else {
		EVP_MD_CTX *mc = EVP_MD_CTX_new();

		/* PureEdDSA: no digest of its own, over the SHA-256 */
		ok = mc != NULL && EVP_DigestSignInit_ex(mc, NULL, NULL, NULL,
		    NULL, k->pkey, NULL) > 0 &&
		    EVP_DigestSign(mc, NULL, &len, md, mdlen) > 0 &&
		    (sig = malloc(len)) != NULL &&
		    EVP_DigestSign(mc, sig, &len, md, mdlen) > 0;
		EVP_MD_CTX_free(mc);
	}
	if (!ok) {
		snprintf(err, errlen, "cannot sign with %s: %s",
		    k->path != NULL ? k->path : "the key",
		    ossl_reason(why, sizeof(why)));
		free(sig);
		return -1;
	}
	*sig_r = sig;
	*siglen_r = len;
	return 0;
}

const char *
dkim_alg_name(enum dkim_alg alg)
{
	return alg == DKIM_ALG_RSA_SHA256 ? "rsa-sha256" : "ed25519-sha256";
}

/* The k= of the key's DNS record. */
const char *
dkim_key_kind(const struct dkim_key *k)
{
	return k->alg == DKIM_ALG_RSA_SHA256 ? "rsa" : "ed25519";
}

char *
dkim_key_public(const struct dkim_key *k)
{
	unsigned char *der = NULL, raw[32];
	size_t rawlen = sizeof(raw);
	char *b64 = NULL;
	int n;

	if (k->alg == DKIM_ALG_ED25519_SHA256) {
		if (EVP_PKEY_get_raw_public_key(k->pkey, raw, &rawlen) != 1) {
			ERR_clear_error();
			return NULL;
		}
		return b64_encode(raw, rawlen);
	}
	if ((n = i2d_PUBKEY(k->pkey, &der)) <= 0) {
		ERR_clear_error();
		return NULL;
	}
	b64 = b64_encode(der, (size_t)n);
	OPENSSL_free(der);
	return b64;
}

char *
dkim_key_record(const struct dkim_key *k)
{
	struct dstr s = { NULL, 0, 0, false };
	char *p = dkim_key_public(k);

	if (p == NULL)
		return NULL;
	dstr_fmt(&s, "v=DKIM1; k=%s; p=", dkim_key_kind(k));
	dstr_str(&s, p);
	free(p);
	if (s.oom) {
		dstr_free(&s);
		return NULL;
	}
	return s.p;
}

bool
dkim_key_matches(const struct dkim_key *k, const unsigned char *p, size_t n)
{
	const unsigned char *q;
	unsigned char raw[32];
	size_t rawlen = sizeof(raw);
	EVP_PKEY *pub;
	bool same;

	if (k->alg == DKIM_ALG_ED25519_SHA256) {
		if (EVP_PKEY_get_raw_public_key(k->pkey, raw, &rawlen) != 1) {
			ERR_clear_error();
			return false;
		}
		return n == rawlen && memcmp(p, raw, n) == 0;
	}
	if (n > (size_t)1 << 20)
		return false;
	q = p;
	pub = d2i_PUBKEY(NULL, &q, (long)n);
	if (pub == NULL || q != p + n) {
		EVP_PKEY_free(pub);
		q = p;
		pub = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, (long)n);
		if (pub != NULL && q != p + n) {
			EVP_PKEY_free(pub);
			pub = NULL;
		}
	}
	same = pub != NULL && EVP_PKEY_eq(k->pkey, pub) == 1;
	EVP_PKEY_free(pub);
	ERR_clear_error();
	return same;
}
