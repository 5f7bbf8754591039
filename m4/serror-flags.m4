dnl SERROR_CC_FLAG(FLAG, VARIABLE): append FLAG to VARIABLE when the C compiler
dnl accepts it with -Werror (so an unknown -W option is not silently kept).
AC_DEFUN([SERROR_CC_FLAG], [
        AC_MSG_CHECKING([whether $CC accepts $1])
        serror_save_CFLAGS=$CFLAGS
        CFLAGS="$CFLAGS -Werror $1"
        AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
                [AC_MSG_RESULT([yes]); $2="$$2 $1"],
                [AC_MSG_RESULT([no])])
        CFLAGS=$serror_save_CFLAGS
])
