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

#endif
