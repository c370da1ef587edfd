// SPDX-License-Identifier: GPL-2.0
/*
 * mmrace free-page count for the scenarios' leak checks: the buddy
 * allocator's free pages plus those held on the per-CPU lists.
 */
#include <linux/cpumask.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/nodemask.h>
#include <linux/percpu.h>
#include <linux/vmstat.h>

#include "shim.h"

unsigned long mmrace_free_pages_total(void)
{
	unsigned long total = global_zone_page_state(NR_FREE_PAGES);
	int nid, z, cpu;

	/* Pages on the per-CPU lists are free too; the sum is racy. */
	for_each_online_node(nid) {
		pg_data_t *pgdat = NODE_DATA(nid);

		for (z = 0; z < MAX_NR_ZONES; z++) {
			struct zone *zone = &pgdat->node_zones[z];

			if (!populated_zone(zone) || !zone->per_cpu_pageset)
				continue;
			for_each_online_cpu(cpu)
				total += READ_ONCE(per_cpu_ptr(zone->per_cpu_pageset,
							       cpu)->count);
		}
	}
	return total;
}
