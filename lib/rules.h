/*
 * rules.h - the notice's rules as pure decisions (DESIGN.md §4)
 *
 * Facts in (struct photo_facts, video_facts, sniff_result, counts), a
 * verdict out.  No I/O, no clock, no database: every function here is
 * tested with plain structs.  Every refusal carries a precise Chinese
 * reason naming the file and the figure, e.g.
 *   图片“IMG_0001.jpg”分辨率为 800×600，低于要求的 1024×768
 * Reasons are newly allocated (g_free).
 */
#ifndef INTAKE_RULES_H
#define INTAKE_RULES_H

#include "common.h"
#include "config.h"
#include "photo.h"
#include "sniff.h"
#include "video.h"

enum verdict {
	VERDICT_ACCEPTED,     /* every item filed */
	VERDICT_PARTIAL,      /* some filed, some refused */
	VERDICT_REJECTED,     /* nothing filed */
	VERDICT_UNIDENTIFIED, /* the unit could not be told */
	VERDICT_IGNORED,      /* not a submission: no reply */
	VERDICT_DUPLICATE,    /* byte-identical redelivery: no reply */
};
const char *verdict_name(enum verdict v);

/* A unit's accepted holdings, counted from the store. */
struct dossier {
	unsigned summaries;          /* accepted documents */
	unsigned paper_summaries;    /* recorded by intakectl receive */
	unsigned photos;             /* accepted, not withdrawn/replaced */
	unsigned photos_uncaptioned;
	unsigned videos;
	unsigned links;              /* link items not yet fulfilled */
	unsigned messages;           /* submissions received */
	bool late;                   /* any accepted item arrived late */
};

enum unit_status {
	UNIT_COMPLETE,
	UNIT_INCOMPLETE,
	UNIT_MISSING,
};
const char *unit_status_name(enum unit_status s);

/* What a unit still lacks, as DESIGN.md names it in status --json. */
enum missing_flag {
	MISSING_SUMMARY = 1 << 0,  /* "summary" */
	MISSING_PHOTOS = 1 << 1,   /* "photos" */
	MISSING_CAPTIONS = 1 << 2, /* "captions" */
	MISSING_VIDEO = 1 << 3,    /* "video" */
};

enum unit_status rules_unit_status(const struct rules_config *rules,
				   const struct dossier *d,
				   unsigned *missing_r);
/* Fills names (up to 4, NULL-terminated: room for 5) from a missing
 * mask; returns how many. */
size_t rules_missing_names(unsigned missing, const char *names_r[5]);
/* Chinese, for replies: "活动总结", "图片", "图片说明", "高清视频". */
size_t rules_missing_labels(unsigned missing, const char *labels_r[5]);

/* A photo's facts; true when acceptable by content and size. */
bool rules_photo(const struct rules_config *rules, const char *name,
		 const struct photo_facts *f, char **reason_r);
/* The unit already has photos_held accepted photos: over the limit? */
bool rules_photo_room(const struct rules_config *rules, const char *name,
		      unsigned photos_held, char **reason_r);
char *rules_photo_duplicate_reason(const char *name, const char *earlier);

bool rules_video(const struct rules_config *rules, const char *name,
		 const struct video_facts *f, char **reason_r);
bool rules_summary(const char *name, const struct sniff_result *s,
		   uint64_t size, char **reason_r);
/* Why an attachment of no accepted kind is refused. */
char *rules_other_reason(const char *name, const struct sniff_result *s);

/* Late: arrival after deadline + grace.  deadline 0: never late. */
bool rules_is_late(int64_t arrival, int64_t deadline, unsigned grace);
char *rules_late_reason(const char *name, const char *deadline_text);

enum verdict rules_message_verdict(unsigned accepted, unsigned refused);

#endif
