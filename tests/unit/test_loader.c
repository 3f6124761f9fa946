/*
 * test_loader.c - the plugin loader through libltdl, with real modules:
 * the built plugins, and fixtures broken in one way each
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ltdl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader.h"
#include "util.h"

static char *builddir;

/* A descriptor handed to the loader as if preloaded by -dlpreopen. */
static const struct plume_plugin builtin_desc = {
	PLUME_PLUGIN_INIT,
	.name = "builtin",
	.version = "9.9",
	.kinds = PLUME_KIND_OBSERVER,
};
static const lt_dlsymlist fake_preload[] = {
	{ "@PROGRAM@", NULL },
	{ "builtin.a", NULL },
	{ "builtin_LTX_plugin", (void *)&builtin_desc },
	{ NULL, NULL },
};

static void
set_dir(const char *sub)
{
	char *dir = xasprintf("%s/%s", builddir, sub);
	const char *dirs[] = { dir, NULL };

	loader_set_dirs(dirs);
	free(dir);
}

static int
setup(void **state)
{
	char err[256];

	if (loader_init(fake_preload, err, sizeof(err)) == -1)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	loader_shutdown();
	return 0;
}

static void
test_real_plugin(void **state)
{
	char err[512] = "";
	struct plugin *p;

	set_dir("plugins/outbox/.libs");
	p = loader_get("outbox", err, sizeof(err));
	assert_non_null(p);
	assert_string_equal(p->desc.name, "outbox");
	assert_true(p->desc.kinds & PLUME_KIND_TRANSPORT);
	assert_non_null(p->desc.transport);
	assert_non_null(strstr(p->path, "outbox.so"));
	/* cached: the same plugin again */
	assert_ptr_equal(loader_get("outbox", err, sizeof(err)), p);
}

static void
test_builtin(void **state)
{
	char err[512] = "";
	struct plugin *p;

	set_dir("plugins/outbox/.libs");
	p = loader_get("builtin", err, sizeof(err));
	assert_non_null(p);
	assert_null(p->path);
	assert_string_equal(p->desc.version, "9.9");
}

static void
expect_refusal(const char *name, const char *words)
{
	char err[512] = "";

	set_dir("tests/unit/fixtures/.libs");
	assert_null(loader_get(name, err, sizeof(err)));
	if (strstr(err, words) == NULL)
		fail_msg("loading %s: \"%s\" lacks \"%s\"", name, err, words);
}

static void
test_bad_abi(void **state)
{
	expect_refusal("badabi", "built for plume plugin ABI 2.0");
}

static void
test_no_descriptor(void **state)
{
	expect_refusal("nodesc", "has no symbol nodesc_LTX_plugin");
}

static void
test_wrong_name(void **state)
{
	expect_refusal("wrongname", "calls itself 'somethingelse'");
}

static void
test_unknown(void **state)
{
	expect_refusal("nosuchplugin", "unknown plugin 'nosuchplugin'");
	expect_refusal("../etc", "invalid plugin name");
}

static void
test_unsafe_permissions(void **state)
{
	char dir[] = "/tmp/plume-loader.XXXXXX";
	char err[512] = "", *cmd, *copy;
	const char *dirs[] = { dir, NULL };

	assert_non_null(mkdtemp(dir));
	copy = xasprintf("%s/outbox.so", dir);
	cmd = xasprintf("cp '%s/plugins/outbox/.libs/outbox.so' '%s'",
	    builddir, copy);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	assert_int_equal(chmod(copy, 0666), 0);
	loader_set_dirs(dirs);
	assert_null(loader_get("outbox", err, sizeof(err)));
	assert_non_null(strstr(err, "refused: writable by others"));

	assert_int_equal(chmod(copy, 0664), 0);
	assert_null(loader_get("outbox", err, sizeof(err)));
	assert_non_null(strstr(err, "writable by its group"));

	/* a directory anyone may write to is as bad as the file */
	assert_int_equal(chmod(copy, 0644), 0);
	assert_int_equal(chmod(dir, 0777), 0);
	assert_null(loader_get("outbox", err, sizeof(err)));
	assert_non_null(strstr(err, "directory"));

	assert_int_equal(chmod(dir, 0755), 0);
	assert_non_null(loader_get("outbox", err, sizeof(err)));
	unlink(copy);
	rmdir(dir);
	free(copy);
}

static void
count_cb(void *arg, const struct plugin *p, const char *name,
    const char *path, const char *error)
{
	int *counts = arg;

	if (p != NULL && strcmp(name, "builtin") == 0 && path == NULL)
		counts[0]++;
	if (p != NULL && strcmp(name, "outbox") == 0 && path != NULL)
		counts[1]++;
}

static void
test_each(void **state)
{
	int counts[2] = { 0, 0 };

	set_dir("plugins/outbox/.libs");
	loader_each(count_cb, counts);
	assert_int_equal(counts[0], 1);
	assert_int_equal(counts[1], 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_real_plugin, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_builtin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_abi, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_descriptor, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_wrong_name, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsafe_permissions, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_each, setup, teardown),
	};

	builddir = getenv("top_builddir");
	if (builddir == NULL) {
		fprintf(stderr, "top_builddir is not set\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
