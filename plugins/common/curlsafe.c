/*
 * NAME
 *	curlsafe.c - the TLS and protocol settings every libcurl request of
 *	plume's plugins gets
 * DESCRIPTION
 *	One place, so that no plugin can forget one: the protocols allowed,
 *	redirects never followed (a key or a signed event must never follow
 *	a 3xx elsewhere), certificate and host name verification set
 *	explicitly (libcurl's defaults today, set again so that no future
 *	default can change them), TLS 1.2 at least, and no signals (libcurl
 *	in a library must not use SIGALRM for timeouts).
 */
#include "curlsafe.h"

void
curl_safe_defaults(CURL *c, const char *protocols, const char *ca_file)
{
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, protocols);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, ca_file);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
}
