from genelang.cli import main

main()
