/*
 * NAME
 *	import.h - "plume import": convert an msmtp, ssmtp or dma config
 */
#ifndef PLUME_IMPORT_H
#define PLUME_IMPORT_H

/* Runs plume import with its own arguments (after "import"); prints the
   converted config on stdout and returns the exit code: 0, 64 (usage),
   65 (unparseable input), 66 (input missing), 73 (a secret file could
   not be written). */
int	 import_main(int argc, char **argv);

#endif
