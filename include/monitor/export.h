/* SPDX-License-Identifier: MIT */
/* Marks the symbols the shared library exports; everything else is built hidden. */
#ifndef MONITOR_EXPORT_H
#define MONITOR_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define MON_API __attribute__((visibility("default")))
#else
#define MON_API
#endif

#endif /* MONITOR_EXPORT_H */
