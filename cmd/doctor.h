/*
 * NAME
 *	doctor.h - "plume doctor": diagnose why mail does not go out
 */
#ifndef PLUME_DOCTOR_H
#define PLUME_DOCTOR_H

#include <stdbool.h>

struct runtime;

/* Runs plume doctor with its own arguments (after "doctor"); returns
   the exit code: 0 when no check failed, 1 when one did, 64 for a
   usage error. */
int	 doctor_main(const char *cfg, bool explicit_cfg, int argc,
	    char **argv);

/* plume.c: the permission warnings of "plume config check", added to
   rt->diags. */
void	 config_modes(struct runtime *);

#endif
