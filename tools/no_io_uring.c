/* no_io_uring ERRNO COMMAND [ARGS...]: runs COMMAND with io_uring_setup(2) failing with ERRNO,
 * the way a seccomp profile (Docker's default), io_uring_disabled=2 or an old kernel refuses
 * io_uring. Tests use it to prove the posix fallback of the real disk (TOOLCHAIN.md, section 3). */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: no_io_uring ERRNO COMMAND [ARGS...]\n");
    return 2;
  }
  const int error_number = atoi(argv[1]);
  if (error_number <= 0 || (unsigned)error_number > SECCOMP_RET_DATA) {
    fprintf(stderr, "no_io_uring: ERRNO must be a positive errno value, got '%s'\n", argv[1]);
    return 2;
  }
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((unsigned)error_number & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog program = {sizeof filter / sizeof filter[0], filter};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
    fprintf(stderr, "no_io_uring: installing the seccomp filter failed: %s\n", strerror(errno));
    return 1;
  }
  execvp(argv[2], argv + 2);
  fprintf(stderr, "no_io_uring: exec %s: %s\n", argv[2], strerror(errno));
  return 127;
}
