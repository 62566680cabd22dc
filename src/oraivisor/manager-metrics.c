/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The manager's metrics (docs/metrics.md): what it lends the metrics file at each write, and the history
 * it keeps (daemon starts, upgrades and their backups). */

#include <systemd/sd-login.h>

#include "log.h"
#include "manager-internal.h"
#include "time-util.h"

static void metrics_refresh(Metrics *mm, void *userdata) {
        Manager *m = userdata;
        mm->daemon = m->config->name;
        mm->current = m->version_label;
        mm->version = PACKAGE_VERSION;
        /* Up from its start until it is seen to exit (a stop for an upgrade or a shutdown included). */
        mm->daemon_up = m->state == STATE_RUNNING || m->state == STATE_STOPPING || m->state == STATE_SHUTTING_DOWN;
        mm->upgrade_step = m->upgrade && m->state == STATE_UPGRADING ? upgrade_current_step(m->upgrade)
                                                                     : _UPGRADE_STEP_INVALID;
        /* Ready: installed and it passed the readiness check (ready-watch.h). The chain watcher's plan
         * first, then those scheduled at a height. */
        size_t n = 0;
        if (m->chain_watch) {
                const ChainState *cs = chain_watch_state(m->chain_watch);
                mm->chain_height = cs->reachable ? cs->height : 0;
                for (size_t i = 0; i < cs->n_upgrades && n < ELEMENTSOF(m->metrics_scheduled); i++)
                        if (cs->upgrades[i].source == SCHEDULED_SOURCE_GOVERNANCE)
                                m->metrics_scheduled[n++] = (MetricsScheduled) {
                                        .upgrade = cs->upgrades[i].name,
                                        .source = scheduled_source_to_string(SCHEDULED_SOURCE_GOVERNANCE),
                                        .height = cs->upgrades[i].height,
                                        .binary_ready = cs->upgrades[i].binary == BINARY_INSTALLED &&
                                                cs->upgrades[i].ready == READY_YES,
                                };
        }
        size_t np;
        const ReadyPlan *plans = ready_watch_plans(m->ready_watch, &np);
        for (size_t i = 0; i < np && n < ELEMENTSOF(m->metrics_scheduled); i++)
                if (plans[i].source == SCHEDULED_SOURCE_HEIGHT)
                        m->metrics_scheduled[n++] = (MetricsScheduled) {
                                .upgrade = plans[i].name,
                                .source = scheduled_source_to_string(SCHEDULED_SOURCE_HEIGHT),
                                .height = plans[i].height,
                                .binary_ready = plans[i].track.state == READY_YES,
                        };
        mm->scheduled = m->metrics_scheduled;
        mm->n_scheduled = n;
}

/* At every change of what the metrics show; the file's own timer rewrites it every minute as well. */
void manager_metrics_changed(Manager *m) {
        metrics_file_write(m->metrics);
}

int manager_metrics_setup(Manager *m) {
        const char *dir = metrics_file_dir(m->config->metrics_dir, m->config->metrics_off);
        if (!dir) {
                log_debug("Metrics are off (ORAIVISOR_METRICS_DIR=off, or no '" CONFIG_DEFAULT_METRICS_DIR "').");
                return 0;
        }
        _cleanup_free_ char *own = NULL, *instance = NULL;
        if (m->config->under_systemd)
                (void) sd_pid_get_unit(0, &own);
        if (metrics_file_instance(own, m->config->name, &instance) < 0)
                return log_oom();
        return metrics_file_new(m->event, dir, instance, m->config->home, metrics_refresh, m, &m->metrics);
}

/* Counts an upgrade that ended (not one stopped to be resumed) in the metrics; u: NULL when it could not
 * even start. */
void manager_metrics_count_upgrade(Manager *m, Upgrade *u, int error) {
        MetricsHistory *h = metrics_file_history(m->metrics);
        if (!h)
                return;
        h->upgrades[error < 0 ? METRICS_RESULT_FAILURE : METRICS_RESULT_SUCCESS]++;
        if (!u)
                return;
        if (error >= 0) {
                usec_t t = now(CLOCK_REALTIME), started = upgrade_started_usec(u);
                h->last_upgrade_usec = t;
                h->last_upgrade_duration = t > started ? t - started : 0;
        }
        if (upgrade_backup_made(u, &h->last_backup_bytes, &h->last_backup_duration))
                h->have_backup = true;
}