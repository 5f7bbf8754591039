/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test helper: prints KVM_CHECK_EXTENSION's answer for each capability number given, as an independent check of serrord. */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(int argc, char *argv[]) {
        int fd = open(argc > 1 ? argv[1] : "/dev/kvm", O_RDONLY | O_CLOEXEC);

        if (fd < 0) {
                perror("kvm-cap: open");
                return 1;
        }
        for (int i = 2; i < argc; i++) {
                int r = ioctl(fd, KVM_CHECK_EXTENSION, strtoul(argv[i], NULL, 0));
                printf("%s %d\n", argv[i], r < 0 ? 0 : r);
        }
        close(fd);
        return 0;
}
