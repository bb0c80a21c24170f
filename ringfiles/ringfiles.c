// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "ringfiles/ringfiles.h"

const char *ringfiles_dir(void)
{
	const char *dir = getenv("TATTACH_RING_DIR");

	return dir && *dir ? dir : TAT_RING_DIR;
}

int ringfiles_read_header(int fd, struct tat_ring_header *h)
{
	if (pread(fd, h, sizeof(*h), 0) != sizeof(*h))
		return -EBADMSG;
	if (h->magic != TAT_RING_MAGIC || h->version != TAT_RING_VERSION ||
	    h->header_size != sizeof(*h))
		return -EBADMSG;
	return 0;
}
