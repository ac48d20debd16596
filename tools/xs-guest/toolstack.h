/*
 * toolstack.h - dom0's side of a simulated guest's life: introduce and
 * release over the dom0 socket ($XENSTORED_PATH, libxenstore), and domain
 * state changes in the sim backend's directory. 0 or a negative errno.
 */
#ifndef XSG_TOOLSTACK_H
#define XSG_TOOLSTACK_H

#include <stdint.h>

/* mkdir /local/domain/N (owner N), then INTRODUCE N N port. */
int toolstack_introduce(uint32_t domid, uint32_t port);
int toolstack_release(uint32_t domid);
/* state: running, shutdown, dying or dead; then raises VIRQ_DOM_EXC. */
int toolstack_set_state(const char *dir, uint32_t domid, const char *state);

#endif
