/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* When is a plan acted on: the one decision every plan source (the daemon's output, upgrade-info.json, the
 * start-up check, the daemon's own exit) goes through. A pure state machine: the runtime feeds it events
 * and carries out the action it returns; the two facts it needs from the world (is this plan due, what
 * does upgrade-info.json say now) come through PlanFacts, so that tests drive it without a file system,
 * a clock or a daemon. It owns every "already seen" the supervisor keeps: the plan being acted on, the
 * announcement waiting for its confirmation, and the last plan it ignored (to say so once, not per line).
 *
 * Rules (README "Upgrades"):
 *  - The same plan from several sources is acted on once.
 *  - A plan from upgrade-info.json is trusted. An announcement in the output is acted on when the file
 *    confirms it; else the arbiter waits (PLAN_ACTION_ARM_TIMER) for the file, for the daemon's exit or for
 *    the timer, whichever comes first: SDK v0.40-v0.43 log the line before they write the file, and
 *    stopping the node at the line could kill it before it writes the file. At the timer, a file naming
 *    another plan means the node did not announce it (ignored); no file, or one still malformed, means
 *    the line is all there is (acted on).
 *  - SDK v0.40-v0.43 write the file without the info: the line's info fills it in.
 *  - New plans are taken only while the daemon is up; while one is acted on, others are ignored (said once). */

#include "plan.h"

typedef enum PlanVerdict {
        PLAN_VERDICT_DUE,        /* to be carried out */
        PLAN_VERDICT_RUNNING,    /* the version running is this plan's: nothing to do, nothing to say */
        PLAN_VERDICT_NOT_NEWER,  /* not newer than the plan of the version running */
        PLAN_VERDICT_SKIPPED,    /* its height is listed in --unsafe-skip-upgrades */
        _PLAN_VERDICT_MAX,
        _PLAN_VERDICT_INVALID = -EINVAL,
} PlanVerdict;

/* What data/upgrade-info.json holds at the moment the arbiter asks. */
typedef struct PlanFile {
        int r;                   /* 1: a plan; 0: no file; -EBADMSG: malformed (reason); other: unreadable */
        const UpgradePlan *plan; /* r > 0; owned by the facts' provider, valid until its next read */
        const char *reason;      /* r == -EBADMSG: a static string */
} PlanFile;

typedef struct PlanFacts {
        PlanVerdict (*judge)(const UpgradePlan *p, void *userdata);
        int (*read_file)(PlanFile *ret, void *userdata); /* 0, or -ENOMEM */
        void *userdata;
} PlanFacts;

/* The daemon as the supervisor sees it when an event comes. */
typedef enum DaemonPhase {
        DAEMON_PHASE_UP,       /* launching or running: new plans are taken */
        DAEMON_PHASE_STOPPING, /* being stopped for the plan acted on */
        DAEMON_PHASE_OTHER,    /* starting up, upgrading, shutting down: no new plans */
        _DAEMON_PHASE_MAX,
        _DAEMON_PHASE_INVALID = -EINVAL,
} DaemonPhase;

typedef enum PlanAction {
        PLAN_ACTION_NONE,
        PLAN_ACTION_STOP,       /* stop the daemon for decision.plan (then PLAN_ACTION_UPGRADE at its exit) */
        PLAN_ACTION_ARM_TIMER,  /* wait for the confirmation: (re)arm the timer, then call plan_arbiter_timeout */
        PLAN_ACTION_UPGRADE,    /* the daemon is down: carry out decision.plan now */
        PLAN_ACTION_EXIT,       /* the daemon ended by itself, no plan explains it: exit with its status */
        _PLAN_ACTION_MAX,
        _PLAN_ACTION_INVALID = -EINVAL,
} PlanAction;

/* What the runtime should say about a decision, besides the action (bits). */
typedef enum PlanNote {
        PLAN_NOTE_IGNORED_BUSY = 1 << 0,   /* plan ignored while decision.other is acted on */
        PLAN_NOTE_NOT_NEWER = 1 << 1,      /* plan ignored: not newer than the running version's */
        PLAN_NOTE_SKIPPED = 1 << 2,        /* plan not carried out: --unsafe-skip-upgrades */
        PLAN_NOTE_WAITING = 1 << 3,        /* plan announced in the output, waiting for its confirmation */
        PLAN_NOTE_UNANNOUNCED = 1 << 4,    /* plan ignored: upgrade-info.json names decision.other */
        PLAN_NOTE_LINE_NO_FILE = 1 << 5,   /* acting on the line: no file came and the daemon still runs */
        PLAN_NOTE_LINE_BAD_FILE = 1 << 6,  /* acting on the line: the file stayed malformed (reason) */
        PLAN_NOTE_BAD_FILE = 1 << 7,       /* the file is malformed (reason), not read as a plan */
        PLAN_NOTE_LINE_THEN_EXIT = 1 << 8, /* UPGRADE from the line, which the daemon's exit followed */
        PLAN_NOTE_INFO_UPDATED = 1 << 9,   /* the acted-on plan's info was replaced by a fuller one */
} PlanNote;

typedef struct PlanDecision {
        PlanAction action;
        PlanSource source;        /* STOP/UPGRADE: where the plan was learnt */
        const UpgradePlan *plan;  /* STOP/UPGRADE: the arbiter's acting plan; notes: the plan concerned */
        const UpgradePlan *other; /* IGNORED_BUSY: the plan acted on; UNANNOUNCED: the file's plan */
        const char *reason;       /* LINE_BAD_FILE, BAD_FILE */
        unsigned notes;           /* PlanNote bits */
} PlanDecision;

typedef struct PlanArbiter PlanArbiter;

int plan_arbiter_new(PlanArbiter **ret);
PlanArbiter *plan_arbiter_free(PlanArbiter *a);
DEFINE_TRIVIAL_CLEANUP_FUNC(PlanArbiter *, plan_arbiter_free);

/* The events. Each returns 0 and the decision, or -ENOMEM (nothing changed). Pointers in the decision are
 * valid until the next call. */
int plan_arbiter_seen(PlanArbiter *a, const PlanFacts *f, DaemonPhase phase, PlanSource source,
                      const UpgradePlan *p, PlanDecision *ret);
int plan_arbiter_timeout(PlanArbiter *a, const PlanFacts *f, DaemonPhase phase, PlanDecision *ret);
/* The daemon ended by itself (not stopped by us) while up. */
int plan_arbiter_daemon_exited(PlanArbiter *a, const PlanFacts *f, PlanDecision *ret);
/* oraivisor starts: a plan that became due while it was down (action UPGRADE, source STARTUP), or NONE. */
int plan_arbiter_startup(PlanArbiter *a, const PlanFacts *f, PlanDecision *ret);
/* An interrupted upgrade is resumed: it is the plan acted on. */
int plan_arbiter_resume(PlanArbiter *a, const UpgradePlan *p);
/* The upgrade is through and the new version is starting: nothing is acted on any more. */
void plan_arbiter_done(PlanArbiter *a);

const UpgradePlan *plan_arbiter_acting(const PlanArbiter *a) _pure_;
/* An announcement waits for its confirmation: the timer must run (and only then). */
bool plan_arbiter_waiting(const PlanArbiter *a) _pure_;

const char *plan_action_to_string(PlanAction a) _const_;
