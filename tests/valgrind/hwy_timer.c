/*
 * hwy_timer.c - lets valgrind run programs that load libhwy
 *
 * libavcodec pulls in libjxl, which pulls in Highway (libhwy.so.1).  When
 * libhwy is loaded, its static initialiser calls
 * hwy::platform::TimerResolution(), which times RDTSC against RDTSCP
 * when CPUID 0x80000001 says RDTSCP exists.  valgrind's synthetic CPUID
 * says it does even on a CPU without it (AMD EPYC guests without the
 * rdtscp flag), and valgrind's own decoder then refuses the instruction:
 * every program linked with libavcodec dies with SIGILL under valgrind
 * before main().  No valgrind option or environment variable changes
 * either side, but libhwy calls the function through its PLT, so a
 * preloaded definition wins:
 *
 *   LD_PRELOAD=build/valgrind/libhwy_timer.so valgrind ...
 *
 * The value only feeds Highway's benchmarking helpers, which intake
 * never calls.  Plain C with the C++ mangled name; not linked into
 * anything else.
 */
#include <stdint.h>

uint64_t _ZN3hwy8platform15TimerResolutionEv(void);

/* hwy::platform::TimerResolution(): ticks of the timer's resolution. */
uint64_t
_ZN3hwy8platform15TimerResolutionEv(void)
{
	return 1;
}
