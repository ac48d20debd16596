/*
 * repo.h - the bare Git repository: new objects go to an in-memory
 * mempack, written out as one pack at a time; refs/heads/main moves only
 * after its pack is on disk.
 */
#ifndef GS_REPO_H
#define GS_REPO_H

#include <git2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gs_repo {
	git_repository *repo;
	git_odb *odb;
	git_odb_backend *mempack; /* owned by odb */
	size_t pending;           /* objects in the mempack */
	bool fsync;
};

/* Opens or creates (bare, HEAD -> refs/heads/main) the repo at dir. */
int gs_repo_open(struct gs_repo *r, const char *dir, bool fsync);
void gs_repo_close(struct gs_repo *r);

/* Hashes and stores one object in the mempack. */
int gs_repo_write(struct gs_repo *r, git_object_t type, const void *data,
		  size_t len, git_oid *out);

/* Writes the mempack as a pack (with its index) and empties it. */
int gs_repo_dump(struct gs_repo *r);

/* Points refs/heads/main at commit. */
int gs_repo_set_main(struct gs_repo *r, const git_oid *commit);
/* Reads refs/heads/main: 0 and *exists false if there is no commit yet. */
int gs_repo_get_main(struct gs_repo *r, git_oid *commit, bool *exists);

/* Creates (or moves) the lightweight tag refs/tags/<name>. */
int gs_repo_tag(struct gs_repo *r, const char *name, const git_oid *commit);

/* Maps the last libgit2 error to a negative errno and a message. */
int gs_git_error(int code, char *msg, size_t len);

#endif
