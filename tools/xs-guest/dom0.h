/*
 * dom0.h - raw requests over dom0's socket ($XENSTORED_PATH), for what
 * libxenstore cannot send (GET/SET_QUOTA, WATCH with a depth). Each call
 * prints one line per answer, as xs-guest's own commands do.
 */
#ifndef XSG_DOM0_H
#define XSG_DOM0_H

/* type: a message type name ("SET_QUOTA"); args joined with NULs. */
int dom0_request(const char *type, char **args, int n);
/* WATCH path token [depth], then prints up to count events within ms. */
int dom0_watch(char **args, int n, int count, int ms);

#endif
