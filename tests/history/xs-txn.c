/*
 * xs-txn - writes PATH=VALUE pairs in one transaction through libxenstore
 * (retrying on EAGAIN, as clients must), for the history tests.
 *   xs-txn PATH VALUE [PATH VALUE]...
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <xenstore.h>

int main(int argc, char **argv)
{
	if (argc < 3 || argc % 2 == 0) {
		fprintf(stderr, "usage: xs-txn PATH VALUE [PATH VALUE]...\n");
		return 2;
	}
	struct xs_handle *h = xs_open(0);
	if (!h) {
		perror("xs_open");
		return 1;
	}
	for (int attempt = 0; attempt < 10; attempt++) {
		xs_transaction_t t = xs_transaction_start(h);
		if (t == XBT_NULL) {
			perror("transaction_start");
			return 1;
		}
		for (int i = 1; i + 1 < argc; i += 2)
			if (!xs_write(h, t, argv[i], argv[i + 1],
				      strlen(argv[i + 1]))) {
				perror(argv[i]);
				xs_transaction_end(h, t, true);
				return 1;
			}
		if (xs_transaction_end(h, t, false)) {
			xs_close(h);
			return 0;
		}
		if (errno != EAGAIN) {
			perror("transaction_end");
			return 1;
		}
	}
	fprintf(stderr, "xs-txn: EAGAIN ten times\n");
	return 1;
}
