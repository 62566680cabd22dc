/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The schedule of upgrades at a height, as add-upgrade --height, add-batch-upgrade and remove-upgrade
 * change it (under the install lock). */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "chain-state-file.h"
#include "height-schedule-file.h"
#include "log.h"
#include "oraivisorctl-install.h"

void ctl_known_height(CtlInstall *i, KnownHeight *ret) {
        known_height_read(i->layout->home_fd, i->layout->root_fd, true, ret);
}

void ctl_schedule_warn_governance(CtlInstall *i, const char *shown, int64_t height) {
        _cleanup_(chain_state_done) ChainState s = {};
        const char *reason = NULL;
        if (chain_state_load_at(i->layout->root_fd, &s, &reason) < 0)
                return;
        /* What oraivisor then does: docs/chain-watch.md, "A governance plan and a scheduled upgrade". */
        for (size_t k = 0; k < s.n_upgrades; k++) {
                const ScheduledUpgrade *g = &s.upgrades[k];
                if (g->source != SCHEDULED_SOURCE_GOVERNANCE || (s.height > 0 && g->height <= s.height))
                        continue; /* past: carried out already */
                _cleanup_free_ char *gn = ctl_escape(g->name);
                if (g->height == height)
                        log_warning("The chain's governance plan '%s' is at height %" PRId64 " too: it wins. oraivisor runs the node without --halt-height %" PRId64 " while the chain watcher knows of the plan, and upgrade '%s' is dropped as superseded once the plan is carried out.",
                                strna(gn), g->height, height, shown);
                else if (g->height < height)
                        log_warning("The chain's governance plan '%s' at height %" PRId64 " comes first: upgrade '%s' then replaces the version it installs, at height %" PRId64 "; make sure '%s' is built for the chain after '%s'.",
                                strna(gn), g->height, shown, height, shown, strna(gn));
                else
                        log_warning("The chain's governance plan '%s' at height %" PRId64 " comes after: version '%s' runs until then and must not carry the plan's upgrade handler (the SDK stops such a binary at once, 'BINARY UPDATED BEFORE TRIGGER'); without it, oraivisor upgrades to '%s' at height %" PRId64 " as usual.",
                                strna(gn), g->height, shown, strna(gn), g->height);
        }
}

int ctl_schedule_check_height(CtlInstall *i, const char *shown, int64_t height, const KnownHeight *known) {
        if (known->height > 0 && height <= known->height)
                return ctl_fail(CTL_EXIT_FAILURE,
                        "Height %" PRId64 " of upgrade '%s' is already passed: the chain is at height %" PRId64
                        " (known from %s); schedule it above %" PRId64 ".",
                        height, shown, known->height, known_height_source_describe(known->source), known->height);
        return CTL_EXIT_OK;
}

int ctl_schedule_load(CtlInstall *i, HeightSchedule *ret) {
        const char *reason = NULL;
        int r = height_schedule_load_at(i->layout->root_fd, ret, &reason);
        if (r == -EBADMSG)
                return ctl_fail(CTL_EXIT_FAILURE,
                        "'%s/" HEIGHT_SCHEDULE_FILE "' is damaged (%s): fix or remove it, then add the upgrades again.",
                        i->layout->root, reason);
        if (r < 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Cannot read '%s/" HEIGHT_SCHEDULE_FILE "': %s.", i->layout->root,
                        strerror(-r));
        return CTL_EXIT_OK;
}

int ctl_schedule_save(CtlInstall *i, const HeightSchedule *s) {
        int r = height_schedule_save_at(i->layout->root_fd, s);
        if (r < 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Cannot write '%s/" HEIGHT_SCHEDULE_FILE "': %s.", i->layout->root,
                        strerror(-r));
        return CTL_EXIT_OK;
}

int ctl_schedule_add(CtlInstall *i, HeightSchedule *s, const char *name, const char *shown, int64_t height) {
        const char *other = NULL;
        int r = height_schedule_add(s, name, height, now(CLOCK_REALTIME), &other);
        if (r == -ENOMEM)
                return log_oom(), CTL_EXIT_FAILURE;
        if (r < 0) {
                _cleanup_free_ char *o = ctl_escape(other);
                return ctl_fail(CTL_EXIT_FAILURE,
                        "Upgrade '%s' is already scheduled at height %" PRId64 ": remove it first ('oraivisorctl remove-upgrade %s'), or pick another height.",
                        strna(o), height, strna(o));
        }
        r = ctl_schedule_save(i, s);
        if (r != CTL_EXIT_OK)
                return r;
        printf("Scheduled upgrade '%s' at height %" PRId64 " ('%s/" HEIGHT_SCHEDULE_FILE "'): the node stops there (--halt-height) and oraivisor switches to it.\n",
                shown, height, i->layout->root);
        ctl_schedule_warn_governance(i, shown, height);
        return CTL_EXIT_OK;
}
