"""One widget per file. Each takes plain records from `layerlens.viewmodel` through
reactive attributes and draws them only while displayed (`lazy.LazyRender`)."""
