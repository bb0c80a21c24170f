#!/bin/sh
# gen_sites.sh DIR MAX N...: the generated part of the attach-pause target.
#
#   DIR/gen_K.c      functions s_{1000K} .. s_{1000K+999}, for K < MAX/1000
#   DIR/table_N.c    sites_count = N and a table of pointers to s_0 .. s_{N-1}
#
# A target with N sites links sites_main.c, gen_0 .. gen_{N/1000-1} and
# table_N, so the 1k, 10k and 100k targets share their objects.  Every
# function is distinct (no identical-code folding) and called through the
# table.  N and MAX are multiples of 1000.
set -eu
dir=$1
max=$2
shift 2
mkdir -p "$dir"
awk -v max="$max" -v dir="$dir" -v sizes="$*" 'BEGIN {
	for (i = 0; i < max; i++) {
		f = sprintf("%s/gen_%d.c", dir, int(i / 1000));
		if (i % 1000 == 0)
			print "extern volatile int sites_sink;" > f;
		printf("int s_%d(int x) { sites_sink += x; return x * %d + %d; }\n",
		       i, (i % 97) + 2, i) > f;
		if (i % 1000 == 999)
			close(f);
	}
	n = split(sizes, sz, " ");
	for (k = 1; k <= n; k++) {
		t = sprintf("%s/table_%d.c", dir, sz[k]);
		print "volatile int sites_sink;" > t;
		for (i = 0; i < sz[k]; i++)
			printf("int s_%d(int);\n", i) > t;
		printf("const long sites_count = %d;\n", sz[k]) > t;
		print "int (*const sites_table[])(int) = {" > t;
		for (i = 0; i < sz[k]; i++)
			printf("\ts_%d,\n", i) > t;
		print "};" > t;
		close(t);
	}
}'
