/* The smallest component for the loader tests: code, one initialised word, one zeroed word. */
int data_word = 1;
int bss_word;

void _start(void)
{
    data_word++;
    bss_word++;
    for (;;) {
    }
}
