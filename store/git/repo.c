/* repo.c - bare repository, mempack objects, pack output, refs. */
#include "repo.h"

#include <errno.h>
#include <git2/sys/mempack.h>
#include <git2/sys/odb_backend.h>
#include <stdio.h>
#include <string.h>

#define MAIN_REF "refs/heads/main"

int gs_git_error(int code, char *msg, size_t len)
{
	const git_error *e = git_error_last();
	if (msg && len)
		snprintf(msg, len, "libgit2: %s", e && e->message ? e->message
							       : "unknown error");
	switch (code) {
	case GIT_ENOTFOUND:
		return -ENOENT;
	case GIT_EEXISTS:
		return -EEXIST;
	case GIT_ELOCKED:
		return -EBUSY;
	default:
		return -EIO;
	}
}

int gs_repo_open(struct gs_repo *r, const char *dir, bool fsync)
{
	int e;
	memset(r, 0, sizeof(*r));
	r->fsync = fsync;
	git_libgit2_init();
	if (fsync)
		git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
	e = git_repository_open_bare(&r->repo, dir);
	if (e == GIT_ENOTFOUND) {
		git_repository_init_options o;
		git_repository_init_options_init(&o,
			GIT_REPOSITORY_INIT_OPTIONS_VERSION);
		o.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH;
		o.initial_head = "main";
		o.description = "xenstore tree history";
		e = git_repository_init_ext(&r->repo, dir, &o);
	}
	if (e)
		goto fail;
	if ((e = git_repository_odb(&r->odb, r->repo)))
		goto fail;
	if ((e = git_mempack_new(&r->mempack)))
		goto fail;
	/* Highest priority: new objects are looked up here first. */
	if ((e = git_odb_add_backend(r->odb, r->mempack, 1000))) {
		r->mempack->free(r->mempack);
		r->mempack = NULL;
		goto fail;
	}
	return 0;
fail:
	e = gs_git_error(e, NULL, 0);
	gs_repo_close(r);
	return e;
}

void gs_repo_close(struct gs_repo *r)
{
	git_odb_free(r->odb);
	git_repository_free(r->repo);
	if (r->repo || r->odb)
		git_libgit2_shutdown();
	memset(r, 0, sizeof(*r));
}

int gs_repo_write(struct gs_repo *r, git_object_t type, const void *data,
		  size_t len, git_oid *out)
{
	int e = git_odb_hash(out, data, len, type);
	/* Straight to the mempack: git_odb_write would first search every pack. */
	if (!e)
		e = r->mempack->write(r->mempack, out, data, len, type);
	if (e)
		return gs_git_error(e, NULL, 0);
	r->pending++;
	return 0;
}

int gs_repo_dump(struct gs_repo *r)
{
	git_buf buf = GIT_BUF_INIT;
	git_odb_writepack *wp = NULL;
	git_indexer_progress st;
	int e;
	if (!r->pending)
		return 0;
	if ((e = git_mempack_dump(&buf, r->repo, r->mempack)))
		goto out;
	if ((e = git_odb_write_pack(&wp, r->odb, NULL, NULL)))
		goto out;
	if ((e = wp->append(wp, buf.ptr, buf.size, &st)))
		goto out;
	if ((e = wp->commit(wp, &st)))
		goto out;
	git_mempack_reset(r->mempack);
	r->pending = 0;
out:
	if (wp)
		wp->free(wp);
	git_buf_dispose(&buf);
	return e ? gs_git_error(e, NULL, 0) : 0;
}

int gs_repo_set_main(struct gs_repo *r, const git_oid *commit)
{
	git_reference *ref;
	int e = git_reference_create(&ref, r->repo, MAIN_REF, commit, 1, NULL);
	if (e)
		return gs_git_error(e, NULL, 0);
	git_reference_free(ref);
	return 0;
}

int gs_repo_get_main(struct gs_repo *r, git_oid *commit, bool *exists)
{
	int e = git_reference_name_to_id(commit, r->repo, MAIN_REF);
	*exists = e == 0;
	if (e == GIT_ENOTFOUND)
		return 0;
	return e ? gs_git_error(e, NULL, 0) : 0;
}

int gs_repo_tag(struct gs_repo *r, const char *name, const git_oid *commit)
{
	char full[256];
	git_reference *ref;
	snprintf(full, sizeof(full), "refs/tags/%s", name);
	int e = git_reference_create(&ref, r->repo, full, commit, 1, NULL);
	if (e)
		return gs_git_error(e, NULL, 0);
	git_reference_free(ref);
	return 0;
}
