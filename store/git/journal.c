/* journal.c - write-ahead journal segments. */
#include "journal.h"
#include "record.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define SEG_MAGIC "XSJ1"
/* Header byte 5: 0 for segments of old daemons, whose writes end with no
 * batch end; 1 when every write ends with one (journal.h). */
#define SEG_BATCHES 1
#define BATCH_PAYLOAD 12u

/*
 * The batch end record, framed: length 12, CRC32 of the payload (a wrong
 * one would drop every batch: tests/git/test_state.c), payload u64 0 (no
 * commit's seq), "XSBE".
 */
static const char BATCH_END[GS_FRAME_HDR + BATCH_PAYLOAD] = {
	12, 0, 0, 0, 0x53, (char)0xe9, 0x6f, (char)0xdf,
	0, 0, 0, 0, 0, 0, 0, 0, 'X', 'S', 'B', 'E',
};

static bool is_batch_end(const char *payload, size_t len)
{
	return len == BATCH_PAYLOAD &&
	       !memcmp(payload, BATCH_END + GS_FRAME_HDR, BATCH_PAYLOAD);
}

size_t gs_journal_good_end(const char *data, size_t start, size_t len,
			   bool batches)
{
	size_t off = start, end = start, fl;
	while ((fl = gs_frame_check(data + off, len - off))) {
		off += fl;
		/* in batches, a record counts once its batch is whole */
		if (!batches || is_batch_end(data + off - fl + GS_FRAME_HDR,
					     fl - GS_FRAME_HDR))
			end = off;
	}
	return end;
}

/* Writes the iovecs whole (retrying a signal before any byte); 0 or -errno,
 * -ENOSPC for a short write. */
static int write_all(int fd, struct iovec *iov, int n, size_t total)
{
	ssize_t w;
	do
		w = writev(fd, iov, n);
	while (w < 0 && errno == EINTR);
	if (w == (ssize_t)total)
		return 0;
	return w < 0 ? -errno : -ENOSPC; /* a short write is a full disk */
}

static void seg_name(const struct gs_journal *j, uint64_t first, char *out,
		     size_t len)
{
	snprintf(out, len, "%s/%016" PRIx64 ".xsj", j->dir, first);
}

static void fsync_dir(const struct gs_journal *j)
{
	int fd = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int gs_journal_init(struct gs_journal *j, const char *storedir,
		    const char *boot, bool dir_fsync)
{
	memset(j, 0, sizeof(*j));
	j->fd = -1;
	j->dir_fsync = dir_fsync;
	snprintf(j->boot, sizeof(j->boot), "%s", boot);
	if (asprintf(&j->dir, "%s/journal", storedir) < 0) {
		j->dir = NULL;
		return -ENOMEM;
	}
	if (mkdir(j->dir, 0700) && errno != EEXIST)
		return -errno;
	pthread_mutex_init(&j->lock, NULL);
	return 0;
}

void gs_journal_fini(struct gs_journal *j)
{
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
	free(j->closed);
	free(j->dir);
	j->dir = NULL;
	pthread_mutex_destroy(&j->lock);
}

static int close_active(struct gs_journal *j)
{
	if (j->fd < 0)
		return 0;
	close(j->fd);
	j->fd = -1;
	if (j->seg_last < j->seg_first) {
		/* no record: drop it now, its name may be reused at once */
		char name[4096];
		seg_name(j, j->seg_first, name, sizeof(name));
		unlink(name);
		return 0;
	}
	return gs_journal_keep(j, j->seg_first, j->seg_last);
}

int gs_journal_keep(struct gs_journal *j, uint64_t first, uint64_t last)
{
	pthread_mutex_lock(&j->lock);
	if (j->nclosed == j->capclosed) {
		size_t cap = j->capclosed ? 2 * j->capclosed : 8;
		struct gs_segment *c = realloc(j->closed, cap * sizeof(*c));
		if (!c) {
			pthread_mutex_unlock(&j->lock);
			return -ENOMEM; /* the segment just stays on disk */
		}
		j->closed = c;
		j->capclosed = cap;
	}
	j->closed[j->nclosed++] = (struct gs_segment){ first, last };
	pthread_mutex_unlock(&j->lock);
	return 0;
}

/*
 * A new segment's file: the header and, when given, its first records,
 * written under a temporary name and renamed into place, so that a segment
 * of the same name (one holding only state records) is replaced whole or
 * not at all.
 */
int gs_journal_start_with(struct gs_journal *j, uint64_t first_seq,
			  const char *data, size_t len)
{
	char name[4096], tmp[4200];
	close_active(j);
	seg_name(j, first_seq, name, sizeof(name));
	snprintf(tmp, sizeof(tmp), "%s.new", name);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	char hdr[8 + 40];
	size_t blen = strlen(j->boot);
	memcpy(hdr, SEG_MAGIC, 4);
	hdr[4] = (char)blen;
	hdr[5] = SEG_BATCHES;
	hdr[6] = hdr[7] = 0;
	memcpy(hdr + 8, j->boot, blen);
	struct iovec iov[3] = {
		{ hdr, 8 + blen },
		{ (void *)data, len },
		{ (void *)BATCH_END, GS_FRAME_HDR + BATCH_PAYLOAD },
	};
	size_t total = 8 + blen + (len ? len + iov[2].iov_len : 0);
	int e = write_all(fd, iov, len ? 3 : 1, total);
	if (e || (j->dir_fsync && fdatasync(fd)) || rename(tmp, name)) {
		if (!e)
			e = errno ? -errno : -EIO;
		close(fd);
		unlink(tmp);
		return e;
	}
	if (j->dir_fsync)
		fsync_dir(j);
	j->fd = fd;
	j->seg_first = first_seq;
	j->seg_last = first_seq - 1;
	j->off = (off_t)total;
	return 0;
}

int gs_journal_start(struct gs_journal *j, uint64_t first_seq)
{
	return gs_journal_start_with(j, first_seq, NULL, 0);
}

bool gs_journal_will_start(const struct gs_journal *j, size_t len)
{
	return j->fd < 0 || (j->off + (off_t)len > GS_SEGMENT_MAX &&
			     j->seg_last >= j->seg_first);
}

int gs_journal_write(struct gs_journal *j, const char *data, size_t len,
		     uint64_t last_seq, int fault)
{
	int r;
	if (gs_journal_will_start(j, len)) {
		/* named after the batch's first record */
		if ((r = gs_journal_start(j, j->seg_last + 1)))
			return r;
	}
	if (fault) {
		ssize_t n = write(j->fd, data, len / 2);
		(void)n; /* torn on purpose: fault is the result */
		r = fault;
	} else {
		/* one write(): a prefix of it, if cut, has no batch end */
		struct iovec iov[2] = {
			{ (void *)data, len },
			{ (void *)BATCH_END, GS_FRAME_HDR + BATCH_PAYLOAD },
		};
		size_t total = len + iov[1].iov_len;
		r = write_all(j->fd, iov, 2, total);
		if (!r) {
			j->off += (off_t)total;
			j->seg_last = last_seq;
			return 0;
		}
	}
	/* Cut the torn bytes so that later records follow a good one. */
	if (ftruncate(j->fd, j->off) || lseek(j->fd, j->off, SEEK_SET) < 0)
		close_active(j); /* the next write starts a new segment */
	return r;
}

int gs_journal_write_cut(struct gs_journal *j, const char *data, size_t len)
{
	int r;
	if (gs_journal_will_start(j, len) &&
	    (r = gs_journal_start(j, j->seg_last + 1)))
		return r;
	struct iovec iov = { (void *)data, len };
	return write_all(j->fd, &iov, 1, len);
}

int gs_journal_sync(struct gs_journal *j)
{
	if (j->fd >= 0 && fdatasync(j->fd))
		return -errno;
	return 0;
}

void gs_journal_gc(struct gs_journal *j, uint64_t git_seq)
{
	char name[4096];
	pthread_mutex_lock(&j->lock);
	size_t k = 0;
	for (size_t i = 0; i < j->nclosed; i++) {
		if (j->closed[i].last_seq <= git_seq) {
			seg_name(j, j->closed[i].first_seq, name, sizeof(name));
			unlink(name);
		} else {
			j->closed[k++] = j->closed[i];
		}
	}
	j->nclosed = k;
	pthread_mutex_unlock(&j->lock);
}

static int is_segment(const char *n, uint64_t *first)
{
	size_t l = strlen(n);
	if (l != 20 || strcmp(n + 16, ".xsj"))
		return 0;
	char *end;
	*first = strtoull(n, &end, 16);
	return end == n + 16;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Sorted first seqs of the segments on disk, except the active one. */
static int list_old(struct gs_journal *j, uint64_t **out, size_t *n)
{
	DIR *d = opendir(j->dir);
	if (!d)
		return -errno;
	uint64_t *v = NULL;
	size_t cnt = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		uint64_t first;
		if (!is_segment(de->d_name, &first))
			continue;
		if (j->fd >= 0 && first == j->seg_first)
			continue;
		if (cnt == cap) {
			cap = cap ? 2 * cap : 16;
			uint64_t *nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
		}
		v[cnt++] = first;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_u64);
	*out = v;
	*n = cnt;
	return 0;
}

static int read_file(const char *name, char **data, size_t *len)
{
	int fd = open(name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st)) {
		close(fd);
		return -errno;
	}
	char *buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	*data = buf;
	*len = got;
	return 0;
}

/*
 * A segment's boot id, where its records start and whether its writes end
 * with a batch end; false if not a segment.
 */
static bool seg_header(const char *data, size_t len, char *boot,
		       size_t *start, bool *batches)
{
	if (len < 8 || memcmp(data, SEG_MAGIC, 4) ||
	    (unsigned char)data[4] >= 40 ||
	    len < 8 + (size_t)(unsigned char)data[4])
		return false;
	size_t blen = (unsigned char)data[4];
	memcpy(boot, data + 8, blen);
	boot[blen] = '\0';
	*start = 8 + blen;
	*batches = data[5] == SEG_BATCHES;
	return true;
}

int gs_journal_load(struct gs_journal *j, struct gs_jseg **out, size_t *nout)
{
	uint64_t *firsts;
	size_t n;
	int r = list_old(j, &firsts, &n);
	*out = NULL;
	*nout = 0;
	if (r)
		return r;
	struct gs_jseg *v = calloc(n ? n : 1, sizeof(*v));
	if (!v) {
		free(firsts);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		char name[4096];
		struct gs_jseg *g = &v[i];
		size_t len = 0;
		g->first = firsts[i];
		seg_name(j, firsts[i], name, sizeof(name));
		if ((r = read_file(name, &g->data, &len)))
			break;
		bool batches;
		if (!seg_header(g->data, len, g->boot, &g->start, &batches)) {
			g->start = g->end = 0; /* not ours: nothing in it */
			continue;
		}
		g->end = gs_journal_good_end(g->data, g->start, len, batches);
	}
	free(firsts);
	if (r) {
		gs_journal_segs_free(v, n);
		return r;
	}
	*out = v;
	*nout = n;
	return 0;
}

void gs_journal_segs_free(struct gs_jseg *segs, size_t n)
{
	for (size_t i = 0; segs && i < n; i++)
		free(segs[i].data);
	free(segs);
}

int gs_journal_drop(struct gs_journal *j, uint64_t first)
{
	char name[4096];
	seg_name(j, first, name, sizeof(name));
	if (unlink(name) && errno != ENOENT)
		return -errno;
	return 0;
}

int gs_journal_scan(struct gs_journal *j, gs_journal_fn fn, void *ctx)
{
	uint64_t *firsts;
	size_t n;
	int r = list_old(j, &firsts, &n);
	if (r)
		return r;
	for (size_t i = 0; i < n && !r; i++) {
		char name[4096], *data = NULL;
		size_t len = 0;
		seg_name(j, firsts[i], name, sizeof(name));
		if ((r = read_file(name, &data, &len)))
			break;
		char boot[40];
		size_t off, end, fl;
		bool batches;
		if (seg_header(data, len, boot, &off, &batches)) {
			end = gs_journal_good_end(data, off, len, batches);
			while (!r && off < end &&
			       (fl = gs_frame_check(data + off, end - off))) {
				r = fn(ctx, boot, data + off + GS_FRAME_HDR,
				       fl - GS_FRAME_HDR);
				off += fl;
			}
		}
		free(data);
	}
	free(firsts);
	return r;
}

int gs_journal_drop_old(struct gs_journal *j)
{
	uint64_t *firsts;
	size_t n;
	int r = list_old(j, &firsts, &n);
	if (r)
		return r;
	for (size_t i = 0; i < n; i++) {
		char name[4096];
		seg_name(j, firsts[i], name, sizeof(name));
		if (unlink(name) && errno != ENOENT)
			r = -errno;
	}
	free(firsts);
	if (j->dir_fsync)
		fsync_dir(j);
	return r;
}
