/*
 * cmd_gitpath.c - git-path: where a node lives in a commit's tree.
 *
 * A node below a fanned-out directory (store/git/fanout.h) sits in
 * bucket trees named by the SHA-1 of its name, and moves there at the
 * commit where its directory grows wide enough: the Git path depends
 * on the commit. This follows the buckets each commit has, at any
 * depth, rather than recomputing the layout, so it answers for stores
 * of any version.
 */
#include "cmd.h"
#include "store/git/fanout.h"
#include "store/git/sha1.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define BUCKET_LEVELS 8u /* deeper: a corrupt tree */

static const struct option gp_opts[] = {
	{ "at", required_argument, NULL, 'a' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 }
};

/* The subtree named name[0..len) of t (owned by the caller), or NULL. */
static git_tree *subtree(git_repository *r, const git_tree *t,
			 const char *name)
{
	const git_tree_entry *te = git_tree_entry_byname(t, name);
	git_tree *sub = NULL;
	if (te && git_tree_entry_type(te) == GIT_OBJECT_TREE &&
	    git_tree_lookup(&sub, r, git_tree_entry_id(te)))
		sub = NULL;
	return sub;
}

/*
 * Appends to out the Git path of child name of directory *t, and moves
 * *t to the child's tree; false if there is none. Looks in the
 * directory first, then in its buckets, level by level.
 */
static bool child_path(git_repository *r, git_tree **t, const char *name,
		       char *out, size_t cap)
{
	unsigned char h[20];
	struct gs_sha1 c;
	gs_sha1_init(&c);
	gs_sha1_update(&c, name, strlen(name));
	gs_sha1_final(&c, h);
	size_t len = strlen(out);
	for (unsigned level = 0;; level++) {
		git_tree *k = subtree(r, *t, name);
		if (k) {
			git_tree_free(*t);
			*t = k;
			return snprintf(out + len, cap - len, "%s%s",
					len ? "/" : "", name) < (int)(cap - len);
		}
		if (level >= BUCKET_LEVELS)
			return false;
		char b[3];
		gs_fan_bucket_name(h[level / 2] >> (level % 2 ? 0 : 4), b);
		git_tree *bt = subtree(r, *t, b);
		if (!bt)
			return false;
		git_tree_free(*t);
		*t = bt;
		len += (size_t)snprintf(out + len, cap - len, "%s%s",
					len ? "/" : "", b);
		if (len >= cap)
			return false;
	}
}

static int resolve(struct hist *h, size_t idx, const char *path, char *out,
		   size_t cap, bool *found)
{
	git_commit *cm;
	git_tree *t;
	if (git_commit_lookup(&cm, h->repo, &h->v[idx].oid))
		return cmd_fail("%s: corrupt repository", h->store);
	int e = git_commit_tree(&t, cm);
	git_commit_free(cm);
	if (e)
		return cmd_fail("%s: corrupt repository", h->store);
	out[0] = '\0';
	*found = true;
	char name[3100];
	for (const char *p = path; *p && *found;) {
		while (*p == '/')
			p++;
		size_t l = strcspn(p, "/");
		if (!l)
			break;
		memcpy(name, p, l);
		name[l] = '\0';
		*found = child_path(h->repo, &t, name, out, cap);
		p += l;
	}
	git_tree_free(t);
	return 0;
}

int cmd_git_path(struct opts *o, int argc, char **argv)
{
	const char *when = NULL, *path = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", gp_opts, NULL)) != -1) {
		if (c == 'a')
			when = optarg;
		else if (c == 'j')
			o->json = true;
		else if (c == 'h') {
			cmd_help("git-path", stdout);
			return 0;
		} else {
			cmd_help("git-path", stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		cmd_help("git-path", stderr);
		return 2;
	}
	if (!(path = cmd_path(argv[optind])))
		return 2;
	struct hist h;
	int rc = cmd_open(o, &h);
	if (rc)
		return rc;
	size_t idx = h.ngit ? h.ngit - 1 : 0;
	if (!h.ngit)
		rc = cmd_fail("%s: no commit yet", o->store);
	else if (when && hist_when(&h, when, &idx))
		rc = cmd_fail("%s", h.err);
	else if (idx >= h.ngit)
		rc = cmd_fail("%s: a change not in Git yet (pending)", when);
	char gp[4096], id[GIT_OID_HEXSZ + 1];
	bool found = false;
	if (!rc)
		rc = resolve(&h, idx, path, gp, sizeof(gp), &found);
	if (!rc && !found) {
		git_oid_tostr(id, sizeof(id), &h.v[idx].oid);
		rc = cmd_fail("%s: no such node at %.12s", path, id);
	}
	if (!rc && o->json) {
		git_oid_tostr(id, sizeof(id), &h.v[idx].oid);
		printf("{\"path\":");
		out_json_str(stdout, path, strlen(path));
		printf(",\"commit\":\"%s\",\"git_path\":", id);
		out_json_str(stdout, gp, strlen(gp));
		printf("}\n");
	} else if (!rc) {
		printf("%s\n", gp);
	}
	hist_close(&h);
	return rc;
}
