/* backend.c - choosing the backend at start (--backend). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"

/* cxenstored's test: a control domain has an event channel device. */
static bool xen_control_domain(void)
{
	char buf[256] = "";
	FILE *f;

	if (access("/dev/xen/evtchn", F_OK))
		return false;
	f = fopen("/proc/xen/capabilities", "r");
	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return strstr(buf, "control_d") != NULL;
}

int xsd_backend_open(const char *spec, struct xsd_backend **out)
{
	const struct xsd_backend_ops *ops = NULL;
	const char *arg = NULL;
	struct xsd_backend *be;
	int r;

	*out = NULL;
	if (!spec)
		spec = xen_control_domain() ? "xen" : "none";
	if (!strcmp(spec, "none"))
		return 0;
	if (!strncmp(spec, "sim:", 4) && spec[4]) {
		ops = &xsd_backend_sim_ops;
		arg = spec + 4;
	} else if (!strcmp(spec, "xen") || !strncmp(spec, "xen:", 4)) {
#ifdef XSD_HAVE_BACKEND_XEN
		ops = &xsd_backend_xen_ops;
		arg = spec[3] ? spec + 4 : NULL;
#else
		return -ENOTSUP;
#endif
	} else {
		return -EINVAL;
	}
	be = calloc(1, sizeof(*be));
	if (!be)
		return -ENOMEM;
	be->ops = ops;
	r = ops->open(be, arg);
	if (r) {
		free(be);
		return r;
	}
	*out = be;
	return 0;
}

void xsd_backend_close(struct xsd_backend *be)
{
	if (!be)
		return;
	be->ops->close(be);
	free(be);
}
