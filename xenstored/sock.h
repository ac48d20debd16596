/*
 * sock.h - the Unix socket listener. Every socket client is dom0 and
 * privileged (as with cxenstored: only root can reach the socket).
 */
#ifndef XSD_SOCK_H
#define XSD_SOCK_H

/* Creates the parent directory, replaces a stale socket, listens. */
int xsd_sock_listen(const char *path);
/* Stops listening and removes the socket file. */
void xsd_sock_close(void);

#endif
