/*
 * nossh.c - libssh2's global init and exit, as no-ops, in the daemon.
 *
 * libgit2's git_libgit2_init() calls libssh2_init(), which initialises
 * OpenSSL (error strings, algorithm tables): about 1.6 MiB of resident
 * memory for an SSH transport the daemon never uses, since its repository
 * is a local directory. Defined in the executable, these take the place
 * of libssh2's for every caller in the process. Nothing else of libssh2
 * is ever called (no remote is ever contacted).
 */
int libssh2_init(int flags);
void libssh2_exit(void);

int libssh2_init(int flags)
{
	(void)flags;
	return 0;
}

void libssh2_exit(void)
{
}
