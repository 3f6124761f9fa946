/*
 * NAME
 *	loader.c - plugin loader on libltdl
 * SYNOPSIS
 *	loader_init(lt_preloaded_symbols, err, sizeof(err));
 *	loader_set_dirs(dirs);
 *	p = loader_get("outbox", err, sizeof(err));
 * DESCRIPTION
 *	A plugin named NAME is looked for first among the modules embedded
 *	with libtool's -dlpreopen (./configure --enable-static-plugins),
 *	then as NAME.so in each plugin directory in turn.  The directories
 *	are compiled in and may be changed only by the config file's
 *	plugin_dir, never by the environment.
 *
 *	Before a module file is opened it must pass secure_file_check():
 *	a module writable by someone else is someone else's code.  After
 *	opening, the descriptor NAME_LTX_plugin must exist, carry ABI
 *	major PLUME_ABI_MAJOR, a struct_size that covers the members of
 *	ABI 1.0, and its own name.  The descriptor is copied into a
 *	zero-filled struct plume_plugin of this plume's size, so members a
 *	plugin built against an older minor lacks read as NULL.
 * DIAGNOSTICS
 *	Each refusal is one line naming the file and the reason.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ltdl.h>

#include "loader.h"
#include "secure.h"
#include "util.h"

static const lt_dlsymlist *preload_table;
static struct plugin *plugins;
static char **search_dirs;

/* The members every ABI 1.x descriptor has. */
#define DESC_MIN_SIZE	(offsetof(struct plume_plugin, commands) +	\
	sizeof(((struct plume_plugin *)0)->commands))

int
loader_init(const void *preloaded, char *err, size_t errlen)
{
	preload_table = preloaded;
	if (lt_dlinit() != 0) {
		snprintf(err, errlen, "cannot initialise libltdl: %s",
		    lt_dlerror());
		return -1;
	}
	return 0;
}

void
loader_set_dirs(const char *const *dirs)
{
	size_t n = 0;

	if (search_dirs != NULL) {
		for (size_t i = 0; search_dirs[i] != NULL; i++)
			free(search_dirs[i]);
		free(search_dirs);
	}
	while (dirs[n] != NULL)
		n++;
	search_dirs = xcalloc(n + 1, sizeof(*search_dirs));
	for (size_t i = 0; i < n; i++)
		search_dirs[i] = xstrdup(dirs[i]);
}

const char *const *
loader_dirs(void)
{
	return (const char *const *)search_dirs;
}

static bool
valid_name(const char *name)
{
	if (*name == '\0' || strlen(name) > 64)
		return false;
	for (const char *p = name; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '_'))
			return false;
	return true;
}

static const struct plume_plugin *
preload_find(const char *sym)
{
	if (preload_table == NULL)
		return NULL;
	for (const lt_dlsymlist *s = preload_table; s->name != NULL; s++)
		if (s->address != NULL && strcmp(s->name, sym) == 0)
			return s->address;
	return NULL;
}

/* Checks a descriptor and copies it into p->desc. */
static int
desc_accept(struct plugin *p, const struct plume_plugin *d,
    const char *where, char *err, size_t errlen)
{
	size_t n;

	if (PLUME_ABI_GET_MAJOR(d->abi_version) != PLUME_ABI_MAJOR) {
		snprintf(err, errlen, "plugin %s: built for plume plugin ABI "
		    "%u.%u, but this plume speaks %u.%u: rebuild the plugin",
		    where, PLUME_ABI_GET_MAJOR(d->abi_version),
		    PLUME_ABI_GET_MINOR(d->abi_version), PLUME_ABI_MAJOR,
		    PLUME_ABI_MINOR);
		return -1;
	}
	if (d->struct_size < DESC_MIN_SIZE) {
		snprintf(err, errlen, "plugin %s: descriptor is %u bytes, "
		    "smaller than ABI %u.0's %zu: broken plugin", where,
		    d->struct_size, PLUME_ABI_MAJOR, DESC_MIN_SIZE);
		return -1;
	}
	if (d->name == NULL || strcmp(d->name, p->name) != 0) {
		snprintf(err, errlen, "plugin %s: calls itself '%s', "
		    "expected '%s'", where, d->name ? d->name : "(null)",
		    p->name);
		return -1;
	}
	n = d->struct_size < sizeof(p->desc) ? d->struct_size :
	    sizeof(p->desc);
	memset(&p->desc, 0, sizeof(p->desc));
	memcpy(&p->desc, d, n);
	if ((p->desc.kinds & PLUME_KIND_TRANSPORT) &&
	    (p->desc.transport == NULL || p->desc.transport->deliver == NULL)) {
		snprintf(err, errlen, "plugin %s: says it is a transport but "
		    "has no deliver operation", where);
		return -1;
	}
	return 0;
}

static struct plugin *
load_file(const char *name, const char *path, char *err, size_t errlen)
{
	struct plugin *p;
	char why[256], sym[96];
	lt_dlhandle h;
	const struct plume_plugin *d;

	if (!secure_file_check(path, why, sizeof(why))) {
		snprintf(err, errlen, "plugin %s refused: %s", path, why);
		return NULL;
	}
	h = lt_dlopen(path);
	if (h == NULL) {
		snprintf(err, errlen, "plugin %s cannot be loaded: %s", path,
		    lt_dlerror());
		return NULL;
	}
	snprintf(sym, sizeof(sym), "%s_LTX_plugin", name);
	d = lt_dlsym(h, sym);
	if (d == NULL) {
		snprintf(err, errlen, "plugin %s has no symbol %s: "
		    "not a plume plugin", path, sym);
		lt_dlclose(h);
		return NULL;
	}
	p = xcalloc(1, sizeof(*p));
	p->name = xstrdup(name);
	p->path = xstrdup(path);
	p->handle = h;
	if (desc_accept(p, d, path, err, errlen) == -1) {
		lt_dlclose(h);
		free(p->name);
		free(p->path);
		free(p);
		return NULL;
	}
	return p;
}

struct plugin *
loader_get(const char *name, char *err, size_t errlen)
{
	struct plugin *p;
	const struct plume_plugin *d;
	char sym[96];

	for (p = plugins; p != NULL; p = p->next)
		if (strcmp(p->name, name) == 0)
			return p;
	if (!valid_name(name)) {
		snprintf(err, errlen, "invalid plugin name '%s'", name);
		return NULL;
	}
	snprintf(sym, sizeof(sym), "%s_LTX_plugin", name);
	if ((d = preload_find(sym)) != NULL) {
		p = xcalloc(1, sizeof(*p));
		p->name = xstrdup(name);
		if (desc_accept(p, d, "(built in)", err, errlen) == -1) {
			free(p->name);
			free(p);
			return NULL;
		}
	} else {
		struct stat st;
		char *path = NULL;

		for (size_t i = 0; search_dirs && search_dirs[i]; i++) {
			path = xasprintf("%s/%s.so", search_dirs[i], name);
			if (stat(path, &st) == 0)
				break;
			free(path);
			path = NULL;
		}
		if (path == NULL) {
			struct buf b;

			buf_init(&b);
			for (size_t i = 0; search_dirs && search_dirs[i]; i++)
				buf_printf(&b, "%s%s", i ? ", " : "",
				    search_dirs[i]);
			snprintf(err, errlen, "unknown plugin '%s': no %s.so in "
			    "%s", name, name, b.len ? b.data : "(no plugin_dir)");
			buf_free(&b);
			return NULL;
		}
		p = load_file(name, path, err, errlen);
		free(path);
		if (p == NULL)
			return NULL;
	}
	p->next = plugins;
	plugins = p;
	return p;
}

void
loader_each(void (*cb)(void *, const struct plugin *, const char *,
    const char *, const char *), void *arg)
{
	char err[512];

	if (preload_table != NULL)
		for (const lt_dlsymlist *s = preload_table; s->name; s++) {
			const char *suffix = "_LTX_plugin";
			size_t n = strlen(s->name), k = strlen(suffix);
			char *name;
			struct plugin *p;

			if (s->address == NULL || n <= k ||
			    strcmp(s->name + n - k, suffix) != 0)
				continue;
			name = xstrndup(s->name, n - k);
			p = loader_get(name, err, sizeof(err));
			cb(arg, p, name, NULL, p ? NULL : err);
			free(name);
		}
	for (size_t i = 0; search_dirs && search_dirs[i]; i++) {
		DIR *dir = opendir(search_dirs[i]);
		struct dirent *de;

		if (dir == NULL)
			continue;
		while ((de = readdir(dir)) != NULL) {
			size_t n = strlen(de->d_name);
			char *name, *path, sym[96];
			struct plugin *p;

			if (n <= 3 || strcmp(de->d_name + n - 3, ".so") != 0)
				continue;
			name = xstrndup(de->d_name, n - 3);
			path = xasprintf("%s/%s", search_dirs[i], de->d_name);
			snprintf(sym, sizeof(sym), "%s_LTX_plugin", name);
			if (!valid_name(name)) {
				free(name);
				free(path);
				continue;
			}
			/* a built-in of the same name shadows the file */
			if (preload_find(sym) != NULL) {
				free(name);
				free(path);
				continue;
			}
			p = NULL;
			for (struct plugin *q = plugins; q; q = q->next)
				if (strcmp(q->name, name) == 0)
					p = q;
			if (p == NULL) {
				p = load_file(name, path, err, sizeof(err));
				if (p != NULL) {
					p->next = plugins;
					plugins = p;
				}
			}
			if (p == NULL || p->path == NULL ||
			    strcmp(p->path, path) == 0)
				cb(arg, p, name, path, p ? NULL : err);
			else
				cb(arg, NULL, name, path,
				    "shadowed by a plugin of the same name "
				    "found earlier");
			free(name);
			free(path);
		}
		closedir(dir);
	}
}

/*
 * Forgets the plugins, but leaves their modules mapped: this runs as
 * the process ends, when unloading gains nothing (the kernel reclaims
 * it all) and costs correctness: the libraries a module pulled in
 * (libcrypto, libcurl, GLib) would run their destructors before their
 * own atexit handlers, and their thread-local storage would leave
 * stale entries that LeakSanitizer's exit-time scan reads and crashes
 * on ("Tracer caught signal 11", DTLS at 0x120).  A loader_init() after
 * this finds the same modules still loaded, which is harmless.
 */
void
loader_shutdown(void)
{
	struct plugin *p, *next;

	for (p = plugins; p != NULL; p = next) {
		next = p->next;
		free(p->name);
		free(p->path);
		free(p);
	}
	plugins = NULL;
	if (search_dirs != NULL) {
		for (size_t i = 0; search_dirs[i] != NULL; i++)
			free(search_dirs[i]);
		free(search_dirs);
		search_dirs = NULL;
	}
	/* no lt_dlexit(): it would unload every module (above) */
}
