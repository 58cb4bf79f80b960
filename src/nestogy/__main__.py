from nestogy.cli import main

main()
