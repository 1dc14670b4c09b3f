# HmnEmbedKernels.cmake - run as `cmake -DOUT=file.c -DKERNEL_DIR=dir
# -DFILES="a;b" -P HmnEmbedKernels.cmake`: writes a C file holding the
# kernel sources as byte arrays, so that libhmn builds its kernels without
# the source tree (HMN_KERNEL_DIR still overrides them at run time).
set(body "/* Generated from kernels/ by cmake/HmnEmbedKernels.cmake: do not edit. */\n")
string(APPEND body "#include \"opencl/opencl.h\"\n\n")
set(table "")
set(index 0)
foreach(name ${FILES})
  file(READ "${KERNEL_DIR}/${name}" hex HEX)
  string(LENGTH "${hex}" hex_length)
  math(EXPR length "${hex_length} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){16})" "\\1\n" bytes "${bytes}")
  string(APPEND body "static const unsigned char hmn__kernel_text_${index}[] = {\n${bytes}0x00};\n\n")
  string(APPEND table "    {\"${name}\", hmn__kernel_text_${index}, ${length}},\n")
  math(EXPR index "${index} + 1")
endforeach()
string(APPEND body "const hmn__kernel_file hmn__kernel_files[] = {\n${table}};\n")
string(APPEND body "const size_t hmn__kernel_file_count = ${index};\n")
file(WRITE "${OUT}" "${body}")
