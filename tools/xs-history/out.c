/* out.c - text (xenstore-ls style) and JSON output. */
#include "hist.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* As xenstore-ls sanitises values. */
void out_value(FILE *f, const char *v, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];
		switch (c) {
		case '\t': fputs("\\t", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\\': fputs("\\\\", f); break;
		default:
			if (c < 0x20)
				fprintf(f, "\\%03o", c);
			else if (c >= 0x7f)
				fprintf(f, "\\x%02x", c);
			else
				fputc(c, f);
		}
	}
}

/* Bytes >= 0x80 are written as U+0080..U+00FF: values are not UTF-8. */
void out_json_str(FILE *f, const char *v, size_t len)
{
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void out_time(char *buf, size_t len, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void out_node_line(FILE *f, const char *path, const struct snode *n)
{
	fprintf(f, "%s = \"", path);
	out_value(f, n->value, n->len);
	fprintf(f, "\"   (%s)\n", n->perms);
}

void out_node_json(FILE *f, const char *key, const struct snode *n)
{
	fprintf(f, "\"%svalue\":", key);
	out_json_str(f, n->value, n->len);
	fprintf(f, ",\"%sperms\":", key);
	out_json_str(f, n->perms, strlen(n->perms));
}

void out_diff_line(FILE *f, const char *indent, const struct hdiff *d)
{
	static const char mark[] = { '+', '-', '~' };
	const struct snode *n = d->new ? d->new : d->old;
	fprintf(f, "%s%c ", indent, mark[d->kind]);
	out_node_line(f, d->path, n);
	if (d->kind == HDIFF_CHANGED) {
		fprintf(f, "%s  was \"", indent);
		out_value(f, d->old->value, d->old->len);
		fprintf(f, "\"   (%s)\n", d->old->perms);
	}
}

void out_diff_json(FILE *f, const struct hdiff *d)
{
	static const char *kind[] = { "added", "removed", "changed" };
	fprintf(f, "{\"type\":\"%s\",\"path\":", kind[d->kind]);
	out_json_str(f, d->path, strlen(d->path));
	if (d->new) {
		fputc(',', f);
		out_node_json(f, "", d->new);
	}
	if (d->old) {
		fputc(',', f);
		out_node_json(f, "old_", d->old);
	}
	fputc('}', f);
}

/* The fields every change object has; the caller closes the object. */
void out_change_json_head(FILE *f, const struct hist *h,
			  const struct hist_change *c)
{
	char t[40], id[GIT_OID_HEXSZ + 1];
	out_time(t, sizeof(t), c->time);
	if (c->pending)
		fputs("{\"commit\":null,\"pending\":true", f);
	else {
		git_oid_tostr(id, sizeof(id), &c->oid);
		fprintf(f, "{\"commit\":\"%s\",\"pending\":false", id);
	}
	fprintf(f, ",\"seq\":%" PRIu64 ",\"time\":%" PRId64 ",\"date\":\"%s\","
		"\"boot\":\"%s\",", c->seq, c->time, t, h->boots[c->boot]);
	if (c->dom == HIST_DOM_NONE)
		fputs("\"domain\":null", f);
	else
		fprintf(f, "\"domain\":%" PRIu32, c->dom);
	fprintf(f, ",\"connection\":%" PRIu32 ",\"transaction\":%" PRIu32
		",\"boot_commit\":%s,\"ops\":[", c->conn, c->tx,
		c->boot_commit ? "true" : "false");
	const char *p = c->ops, *end = c->ops + c->opslen;
	bool first = true;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *sp = memchr(p, ' ', l);
		if (sp) {
			fputs(first ? "{\"op\":" : ",{\"op\":", f);
			out_json_str(f, p, (size_t)(sp - p));
			fputs(",\"path\":", f);
			out_json_str(f, sp + 1, l - (size_t)(sp - p) - 1);
			fputc('}', f);
			first = false;
		}
		p += l + 1;
	}
	fputc(']', f);
}
