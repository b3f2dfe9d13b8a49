/*
 * The native layout of the "rich" values: dates and times, decimals, UUIDs
 * and instances of classes that travel by name (enum members, dataclasses,
 * named tuples, registered classes).  Included by object.h; plain C11.
 *
 * These layouts are a contract for code that walks frozen values without
 * Python (hashing, equality, the JSON encoder, pickling):
 *
 * CH_TIME (ch_time) -- h.flags says which of the four types:
 *   CH_TIME_DATE      year, month, day
 *   CH_TIME_DATETIME  year .. microsecond, fold, and a time zone (below)
 *   CH_TIME_TIME      hour .. microsecond, fold, and a time zone
 *   CH_TIME_DELTA     days, seconds, microsecond (normalised as timedelta
 *                     does: 0 <= seconds < 86400, 0 <= microsecond < 10**6)
 *   tz: CH_TZ_NAIVE (no tzinfo), CH_TZ_FIXED (datetime.timezone: `zone` is
 *   its explicit name as a CH_STR, or None), CH_TZ_ZONE (zoneinfo.ZoneInfo:
 *   `zone` is its key, a CH_STR such as "Europe/Paris").  has_offset: the
 *   UTC offset in offset_us is known (always for aware datetimes, taken when
 *   frozen; a time with a ZoneInfo has none, as in Python).
 *   ch_time_to_str (value.h) writes isoformat(), or str() of a timedelta.
 *
 * CH_DECIMAL (ch_decimal) -- exactly the Decimal's (sign, digits, exponent):
 *   h.flags bit 0 (CH_DEC_NEGATIVE) is the sign; bits 1-2 the kind
 *   (CH_DEC_FINITE, CH_DEC_INFINITE, CH_DEC_NAN, CH_DEC_SNAN).  digits:
 *   ndigits ASCII digits of the coefficient, most significant first, as
 *   Decimal.as_tuple() gives them (trailing zeros kept: Decimal('1.50') is
 *   "150" e-2; a NaN's payload, possibly empty).  `number` is the int or
 *   float this Decimal equals exactly (what dict equality needs), or
 *   CH_NOVALUE when it equals none (Decimal('0.1'), NaNs).
 *   ch_decimal_to_str (value.h) writes str(Decimal).
 *
 * CH_UUID (ch_uuid) -- the 16 bytes of UUID.bytes (big endian);
 *   ch_uuid_to_str (value.h) writes str(UUID).
 *
 * CH_INSTANCE (ch_instance) -- h.flags is the kind (CH_INST_*):
 *   cls      CH_STR "module:qualname" of the class
 *   fields   a CH_TUPLE of field names (CH_STR) for a dataclass or named
 *            tuple, shared by all frozen instances of the class; else None
 *   payload  ENUM, ENUM_VALUE: the member's value (for JSON: the value)
 *            DATACLASS:  a CH_TUPLE of the field values, in `fields` order
 *            NAMEDTUPLE: a CH_TUPLE of the items
 *            REGISTERED: what the registered encode() returned
 *   ENUM_VALUE members (IntEnum, StrEnum, IntFlag: enums mixed with int,
 *   str, float or bytes) and NAMEDTUPLEs compare and hash as their payload,
 *   as they do in Python (IntEnum.A == 1, Point(1, 2) == (1, 2)); the other
 *   kinds compare by class and payload.
 */
#ifndef COHIVE_CORE_VALUES_LAYOUT_H
#define COHIVE_CORE_VALUES_LAYOUT_H

enum { CH_TIME_DATE = 1, CH_TIME_DATETIME, CH_TIME_TIME, CH_TIME_DELTA };
enum { CH_TZ_NAIVE = 0, CH_TZ_FIXED, CH_TZ_ZONE };

typedef struct {
    ch_head h;
    ch_val zone; /* CH_STR or CH_NONE (see above) */
    int64_t offset_us;
    int32_t year;   /* date, datetime */
    int32_t days;   /* timedelta */
    int32_t seconds; /* timedelta */
    int32_t microsecond;
    uint8_t month, day, hour, minute, second, fold, tz, has_offset;
} ch_time;

enum { CH_DEC_NEGATIVE = 1, CH_DEC_FINITE = 0, CH_DEC_INFINITE = 2, CH_DEC_NAN = 4, CH_DEC_SNAN = 6 };
#define CH_DEC_KIND_MASK 6

typedef struct {
    ch_head h;
    ch_val number; /* the equal int or float, or CH_NOVALUE */
    int64_t exponent;
    uint32_t ndigits;
    char digits[];
} ch_decimal;

typedef struct {
    ch_head h;
    unsigned char bytes[16];
} ch_uuid;

enum {
    CH_INST_ENUM = 1,
    CH_INST_ENUM_VALUE,
    CH_INST_DATACLASS,
    CH_INST_NAMEDTUPLE,
    CH_INST_REGISTERED,
};

typedef struct {
    ch_head h;
    ch_val cls;
    ch_val fields;
    ch_val payload;
} ch_instance;

#endif
