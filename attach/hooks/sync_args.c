// SPDX-License-Identifier: MIT
/*
 * The first argument of synchronisation calls, under --libcalls
 * (sync_args.h).  The names are those consumer/export/interactions.c
 * pairs; keep the two lists alike.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "attach/hooks/sync_args.h"

#define SYNC_REQUEST								\
	"pthread_(mutex_(lock|timedlock|clocklock|unlock)"			\
	"|rwlock_(rdlock|wrlock|timedrdlock|timedwrlock|unlock)"		\
	"|cond_(wait|timedwait|clockwait|signal|broadcast))"			\
	"|sem_(wait|timedwait|clockwait|post)@arg1/p"

int sync_args_append(struct args_req **reqs, size_t *n)
{
	struct args_req *v = reallocarray(*reqs, *n + 1, sizeof(*v));
	char why[128];

	if (!v)
		return -ENOMEM;
	*reqs = v;
	memset(&v[*n], 0, sizeof(v[*n]));
	if (args_req_parse(SYNC_REQUEST, 0, &v[*n], why, sizeof(why)))
		return -ENOMEM;		/* the request above is valid */
	v[*n].optional = 1;
	v[*n].fill_in = 1;
	v[*n].option = "--libcalls";
	(*n)++;
	return 0;
}
