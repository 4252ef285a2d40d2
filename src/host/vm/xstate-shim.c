/*
 * Preloaded into UML (LD_PRELOAD) by net-test on CPUs whose XSAVE area is bigger than the one a
 * UML binary was written for (6.1 hard-codes 2696 bytes; AMX makes it 11008). UML saves and
 * restores each guest process's FPU state with ptrace(PTRACE_{GET,SET}REGSET, NT_X86_XSTATE)
 * at every entry to and exit from guest user mode; the host refuses a SETREGSET shorter than
 * its XSAVE size (EFAULT), and init dies at its first instruction.
 *
 * Here a short request goes through a buffer of the host's size, at no extra ptrace call: a
 * GET returns the part UML asked for; a SET sends UML's part followed by zeros. The zeros are
 * never loaded: the components past UML's part (AMX tile state) are absent from the XSTATE_BV
 * bitmap in UML's part (a guest process cannot get AMX enabled: it would need the host's
 * arch_prctl), and the host puts an absent component in its initial state. Every other
 * ptrace call passes through untouched. UML calls ptrace from one thread: static buffers.
 * See src/host/vm/xstate-shim.ts for when it is used.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>

typedef long (*ptrace_fn)(enum __ptrace_request, pid_t, void *, void *);

static ptrace_fn next_ptrace;
static size_t host_size; /* learnt from the first XSTATE request */
static unsigned char got[1 << 16];
static unsigned char sent[1 << 16]; /* past UML's part: zeros, always */

long ptrace(enum __ptrace_request request, ...)
{
	struct iovec *iov, full;
	void *addr, *data;
	va_list ap;
	pid_t pid;

	va_start(ap, request);
	pid = va_arg(ap, pid_t);
	addr = va_arg(ap, void *);
	data = va_arg(ap, void *);
	va_end(ap);
	if (!next_ptrace)
		next_ptrace = (ptrace_fn)dlsym(RTLD_NEXT, "ptrace");
	if ((request != PTRACE_GETREGSET && request != PTRACE_SETREGSET) || (unsigned long)addr != NT_X86_XSTATE)
		return next_ptrace(request, pid, addr, data);

	iov = data;
	if (!host_size) {
		/* A long buffer comes back cut to the real size. */
		full.iov_base = got;
		full.iov_len = sizeof(got);
		if (next_ptrace(PTRACE_GETREGSET, pid, addr, &full) < 0)
			return next_ptrace(request, pid, addr, data);
		host_size = full.iov_len;
	}
	if (iov->iov_len >= host_size)
		return next_ptrace(request, pid, addr, data);

	full.iov_len = host_size;
	if (request == PTRACE_GETREGSET) {
		full.iov_base = got;
		if (next_ptrace(PTRACE_GETREGSET, pid, addr, &full) < 0)
			return -1;
		memcpy(iov->iov_base, got, iov->iov_len);
		return 0;
	}
	full.iov_base = sent;
	memcpy(sent, iov->iov_base, iov->iov_len);
	return next_ptrace(PTRACE_SETREGSET, pid, addr, &full);
}
