/*
 * common.c - error domain and small shared helpers
 */
#include "common.h"

G_DEFINE_QUARK(intake-error-quark, intake_error)

const char *
item_type_name(enum item_type type)
{
	switch (type) {
	case ITEM_PHOTO:
		return "photo";
	case ITEM_VIDEO:
		return "video";
	case ITEM_SUMMARY:
		return "summary";
	case ITEM_LINK:
		return "link";
	case ITEM_OTHER:
		break;
	}
	return "other";
}
