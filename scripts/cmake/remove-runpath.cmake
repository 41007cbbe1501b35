# cmake -DFILE=<elf> -P remove-runpath.cmake: drops the RUNPATH/RPATH entry of a built addon, so a
# prebuilt binary carries no absolute path of the build machine (CMake edits the ELF itself: no patchelf).
if(NOT DEFINED FILE)
  message(FATAL_ERROR "pass -DFILE=<path of the ELF file>")
endif()
file(RPATH_REMOVE FILE "${FILE}")
