# cmake -DIN=file -DOUT=file.cc -DSYMBOL=name -P EmbedFile.cmake
file(READ ${IN} content HEX)
string(LENGTH "${content}" hexlen)
math(EXPR n "${hexlen} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${content}")
file(WRITE ${OUT} "// Generated from ${IN}; do not edit.\n#include <string_view>\n"
  "namespace strata::embedded {\nstatic const unsigned char k${SYMBOL}[] = {${bytes} 0x00};\n"
  "extern const std::string_view ${SYMBOL};\n"
  "const std::string_view ${SYMBOL}(reinterpret_cast<const char*>(k${SYMBOL}), ${n});\n}\n")
