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
	/* the function, not curl.h's type-checking macro of that name */
	curl_safe_apply((curl_easy_setopt), c, protocols, ca_file);
}
