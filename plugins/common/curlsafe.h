/*
 * NAME
 *	curlsafe.h - the TLS and protocol settings every libcurl request of
 *	plume's plugins gets
 */
#ifndef PLUGIN_CURLSAFE_H
#define PLUGIN_CURLSAFE_H

#include <curl/curl.h>

/*
 * Sets on c: only the listed protocols ("https", or "http" where a
 * plugin allows it for loopback), no redirects, the peer's certificate
 * and host name verified, TLS 1.2 or later, ca_file (or the system
 * store when NULL), no signals.
 */
void	 curl_safe_defaults(CURL *c, const char *protocols,
	    const char *ca_file);

/*
 * The same through setopt, a curl_easy_setopt() found with dlsym(3), for
 * a plugin that loads libcurl only when it needs it (hook): the settings
 * stay in this one place.
 */
typedef CURLcode (*curl_setopt_fn)(CURL *, CURLoption, ...);

static inline void
curl_safe_apply(curl_setopt_fn setopt, CURL *c, const char *protocols,
    const char *ca_file)
{
	setopt(c, CURLOPT_PROTOCOLS_STR, protocols);
	setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (ca_file != NULL)
		setopt(c, CURLOPT_CAINFO, ca_file);
	setopt(c, CURLOPT_NOSIGNAL, 1L);
}

#endif
